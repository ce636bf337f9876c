package qdm.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.QdmException;

/**
 * {@link Tokenizer} over a {@code tokenizer.json} written here by hand: a word-level model with a
 * whitespace pre-tokenizer, so the oracle is simply one id per word (its index in the vocabulary,
 * [UNK] for others). The file also asks for truncation to 128, padding to 1024 and [CLS]/[SEP]
 * around every text, none of which a measurement tokenizer may apply unless asked.
 */
class TokenizerTest {
  static final String[] WORDS =
      ("the a of and to in is was for on that with as by at from it "
              + "this be are or an which model feature sparse autoencoder token layer weight quantized "
              + "pruned damage survives blurred")
          .split(" ");
  static final int UNK = 0;
  static final int CLS = 1;
  static final int SEP = 2;
  static final int FIRST_WORD = 3;

  @TempDir Path tmp;

  /** Writes the tokenizer file; ids: [UNK]=0, [CLS]=1, [SEP]=2, then the words. */
  private Path tokenizerJson() throws IOException {
    JsonObject vocab = new JsonObject();
    vocab.addProperty("[UNK]", UNK);
    vocab.addProperty("[CLS]", CLS);
    vocab.addProperty("[SEP]", SEP);
    for (int i = 0; i < WORDS.length; i++) {
      vocab.addProperty(WORDS[i], FIRST_WORD + i);
    }
    JsonObject model = new JsonObject();
    model.addProperty("type", "WordLevel");
    model.add("vocab", vocab);
    model.addProperty("unk_token", "[UNK]");

    JsonArray added = new JsonArray();
    for (String special : new String[] {"[UNK]", "[CLS]", "[SEP]"}) {
      JsonObject t = new JsonObject();
      t.addProperty("id", vocab.get(special).getAsInt());
      t.addProperty("content", special);
      t.addProperty("single_word", false);
      t.addProperty("lstrip", false);
      t.addProperty("rstrip", false);
      t.addProperty("normalized", false);
      t.addProperty("special", true);
      added.add(t);
    }

    JsonObject preTokenizer = new JsonObject();
    preTokenizer.addProperty("type", "WhitespaceSplit");

    JsonObject truncation = new JsonObject();
    truncation.addProperty("direction", "Right");
    truncation.addProperty("max_length", 128);
    truncation.addProperty("strategy", "LongestFirst");
    truncation.addProperty("stride", 0);

    JsonObject fixed = new JsonObject();
    fixed.addProperty("Fixed", 1024);
    JsonObject padding = new JsonObject();
    padding.add("strategy", fixed);
    padding.addProperty("direction", "Right");
    padding.add("pad_to_multiple_of", JsonNull.INSTANCE);
    padding.addProperty("pad_id", UNK);
    padding.addProperty("pad_type_id", 0);
    padding.addProperty("pad_token", "[UNK]");

    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", truncation);
    root.add("padding", padding);
    root.add("added_tokens", added);
    root.add("normalizer", JsonNull.INSTANCE);
    root.add("pre_tokenizer", preTokenizer);
    root.add("post_processor", template());
    root.add("decoder", JsonNull.INSTANCE);
    root.add("model", model);
    Path file = tmp.resolve("tokenizer.json");
    Files.writeString(file, root.toString());
    return file;
  }

  /** A TemplateProcessing post-processor: [CLS] text [SEP]. */
  private static JsonObject template() {
    JsonArray single = new JsonArray();
    single.add(piece("SpecialToken", "[CLS]"));
    single.add(piece("Sequence", "A"));
    single.add(piece("SpecialToken", "[SEP]"));
    JsonArray pair = new JsonArray();
    pair.add(piece("SpecialToken", "[CLS]"));
    pair.add(piece("Sequence", "A"));
    pair.add(piece("SpecialToken", "[SEP]"));
    pair.add(piece("Sequence", "B"));
    pair.add(piece("SpecialToken", "[SEP]"));
    JsonObject specials = new JsonObject();
    specials.add("[CLS]", special("[CLS]", CLS));
    specials.add("[SEP]", special("[SEP]", SEP));
    JsonObject t = new JsonObject();
    t.addProperty("type", "TemplateProcessing");
    t.add("single", single);
    t.add("pair", pair);
    t.add("special_tokens", specials);
    return t;
  }

  private static JsonObject piece(String kind, String id) {
    JsonObject inner = new JsonObject();
    inner.addProperty("id", id);
    inner.addProperty("type_id", 0);
    JsonObject o = new JsonObject();
    o.add(kind, inner);
    return o;
  }

  private static JsonObject special(String token, int id) {
    JsonObject o = new JsonObject();
    o.addProperty("id", token);
    JsonArray ids = new JsonArray();
    ids.add(id);
    o.add("ids", ids);
    JsonArray tokens = new JsonArray();
    tokens.add(token);
    o.add("tokens", tokens);
    return o;
  }

  /** A text of {@code n} vocabulary words, separated by varied whitespace. */
  private static List<String> words(int n, long seed) {
    Random r = new Random(seed);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(WORDS[r.nextInt(WORDS.length)]);
    }
    return out;
  }

  private static long idOf(String word) {
    for (int i = 0; i < WORDS.length; i++) {
      if (WORDS[i].equals(word)) {
        return FIRST_WORD + i;
      }
    }
    return UNK;
  }

  @Test
  void longTextIsOneIdPerWordWithoutTruncationPaddingOrSpecialTokens() throws IOException {
    List<String> text = words(700, 1);
    text.set(10, "unseen"); // out of vocabulary
    String joined =
        String.join(" ", text.subList(0, 300)) + "\n\t" + String.join("  ", text.subList(300, 700));
    long[] expected = text.stream().mapToLong(TokenizerTest::idOf).toArray();
    assertEquals(UNK, expected[10]);
    try (Tokenizer tok = Tokenizer.load(tokenizerJson())) {
      long[] ids = tok.encode(joined);
      assertEquals(700, ids.length, "more than 512 tokens, none added, none cut");
      assertArrayEquals(expected, ids);
      assertEquals(700, tok.tokens(joined).length);
      assertEquals("unseen", text.get(10));
      assertEquals("[UNK]", tok.tokens(joined)[10]);
      // decoding joins the words with single spaces (the unknown one comes back as [UNK])
      List<String> back = new ArrayList<>(text);
      back.set(10, "[UNK]");
      assertEquals(String.join(" ", back), tok.decode(ids));
    }
  }

  @Test
  void specialTokensOnlyWhenAsked() throws IOException {
    String text = String.join(" ", words(20, 2));
    try (Tokenizer tok = Tokenizer.load(tokenizerJson(), true)) {
      long[] ids = tok.encode(text);
      assertEquals(22, ids.length);
      assertEquals(CLS, ids[0]);
      assertEquals(SEP, ids[21]);
    }
  }

  @Test
  void missingOrBrokenFileIsAQdmException() throws IOException {
    QdmException missing =
        assertThrows(QdmException.class, () -> Tokenizer.load(tmp.resolve("absent.json")));
    assertTrue(missing.getMessage().contains("absent.json"), missing.getMessage());
    Path broken = tmp.resolve("broken.json");
    Files.writeString(broken, "{\"model\": {\"type\": \"NoSuchModel\"}}");
    QdmException bad = assertThrows(QdmException.class, () -> Tokenizer.load(broken));
    assertTrue(bad.getMessage().contains("broken.json"), bad.getMessage());
  }
}
