package qdm.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learned tokenizer loads in DJL, round-trips any text, and DJL's ids equal a naive byte-level
 * BPE written here from the file's vocabulary and merges.
 */
class BpeTrainerTest {
  static final String TEXT =
      String.join(
          "\n",
          "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary",
          "election produced \"no evidence\" that any irregularities took place.",
          "The jury further said in term-end presentments that the City Executive Committee,",
          "which had over-all charge of the election, \"deserves the praise and thanks of the",
          "City of Atlanta\" for the manner in which the election was conducted.",
          "The September-October term jury had been charged by Fulton Superior Court Judge",
          "Durwood Pye to investigate reports of possible \"irregularities\" in the hard-fought",
          "primary which was won by Mayor-nominate Ivan Allen Jr.. The jury said it did find that",
          "many of Georgia's registration and election laws \"are outmoded or inadequate\".");

  @Test
  void djlEncodesLikeANaiveBpeAndRoundTrips(@TempDir Path dir) throws Exception {
    BpeTrainer.Vocabulary v = new BpeTrainer(320).train(TEXT);
    assertEquals(320, v.size());
    assertEquals(BpeTrainer.SPECIAL, v.symbols().get(0));
    Path file = dir.resolve("tokenizer.json");
    v.write(file);
    NaiveBpe naive = new NaiveBpe(file);
    String unseen = "Jury: the election's \"praise\" — café, naïve, 1961 \t\n  end ";
    try (Tokenizer t = Tokenizer.load(file)) {
      for (String s : List.of(TEXT, unseen)) {
        long[] ids = t.encode(s);
        assertArrayEquals(naive.encode(s), ids, s);
        assertEquals(s, t.decode(ids));
      }
      assertArrayEquals(new long[] {0}, t.encode(BpeTrainer.SPECIAL));
      assertTrue(t.encode(TEXT).length < TEXT.length() * 3 / 4, "merges shorten the text");
    }
  }

  @Test
  void trainingIsDeterministic() {
    assertEquals(
        new BpeTrainer(300).train(TEXT).toJson(), new BpeTrainer(300).train(TEXT).toJson());
  }

  @Test
  void firstMergeIsTheMostFrequentPair() {
    // " a" occurs 5 times, "ab" 3 times
    BpeTrainer.Vocabulary v = new BpeTrainer(258).train("ab a a a a ab");
    assertArrayEquals(new String[] {"\u0120", "a"}, v.merges().get(0));
  }

  /** Byte-level BPE from the definitions: GPT-2 byte table, lowest-rank pair merged first. */
  static final class NaiveBpe {
    final Map<String, Integer> vocab = new HashMap<>();
    final Map<String, Integer> ranks = new HashMap<>();
    final char[] byteChar = new char[256];

    NaiveBpe(Path file) throws Exception {
      JsonObject model =
          JsonParser.parseString(Files.readString(file)).getAsJsonObject().getAsJsonObject("model");
      model
          .getAsJsonObject("vocab")
          .entrySet()
          .forEach(e -> vocab.put(e.getKey(), e.getValue().getAsInt()));
      JsonArray merges = model.getAsJsonArray("merges");
      for (int i = 0; i < merges.size(); i++) {
        ranks.put(merges.get(i).getAsString(), i);
      }
      // GPT-2: bytes '!'..'~', 0xA1..0xAC, 0xAE..0xFF keep their code point; others 256 + n
      int n = 0;
      for (int b = 0; b < 256; b++) {
        boolean keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
        byteChar[b] = keep ? (char) b : (char) (256 + n++);
      }
    }

    long[] encode(String text) {
      List<Long> ids = new ArrayList<>();
      Matcher m = BpeTrainer.PIECES.matcher(text);
      while (m.find()) {
        List<String> symbols = new ArrayList<>();
        for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
          symbols.add(String.valueOf(byteChar[b & 0xFF]));
        }
        while (true) {
          int best = -1;
          int bestRank = Integer.MAX_VALUE;
          for (int i = 0; i + 1 < symbols.size(); i++) {
            Integer r = ranks.get(symbols.get(i) + " " + symbols.get(i + 1));
            if (r != null && r < bestRank) {
              bestRank = r;
              best = i;
            }
          }
          if (best < 0) {
            break;
          }
          symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
        symbols.forEach(s -> ids.add((long) vocab.get(s)));
      }
      return ids.stream().mapToLong(Long::longValue).toArray();
    }
  }
}
