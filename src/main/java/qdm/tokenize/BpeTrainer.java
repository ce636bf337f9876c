package qdm.tokenize;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns a byte-level BPE vocabulary (the GPT-2 / Pythia scheme) from text and writes it as a
 * Hugging Face {@code tokenizer.json} that DJL's tokenizers binding loads.
 *
 * <p>Byte-level: text is split with GPT-2's pre-tokenization pattern, each piece's UTF-8 bytes are
 * mapped to printable characters, and merges never cross pieces. Every byte is in the base
 * vocabulary, so no text is out of vocabulary and decoding gives back the exact input. Ids: {@value
 * #SPECIAL} is 0 (the BOS/EOS token), the 256 bytes are 1..256 in byte order, then one id per merge
 * in the order learned.
 *
 * <p>Training is deterministic: each step merges the most frequent adjacent pair (counted over
 * distinct pieces times their frequency); ties go to the pair whose left, then right, symbol is
 * smallest as a string. Training stops at the vocabulary size or when no pair occurs twice.
 */
public final class BpeTrainer {
  /** The one special token: beginning and end of text, as in Pythia. */
  public static final String SPECIAL = "<|endoftext|>";

  /** GPT-2's pre-tokenization pattern, which Hugging Face's ByteLevel pre-tokenizer uses. */
  static final Pattern PIECES =
      Pattern.compile(
          "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
          Pattern.UNICODE_CHARACTER_CLASS);

  private final int vocabSize;

  /** A trainer for a vocabulary of {@code vocabSize} ids (special token and bytes included). */
  public BpeTrainer(int vocabSize) {
    if (vocabSize < 257) {
      throw new IllegalArgumentException(
          "vocab size " + vocabSize + " must be at least 257 (the special token and 256 bytes)");
    }
    this.vocabSize = vocabSize;
  }

  /** A learned vocabulary: symbols in id order and the merges in rank order. */
  public record Vocabulary(List<String> symbols, List<String[]> merges) {
    public Vocabulary {
      symbols = List.copyOf(symbols);
      merges = List.copyOf(merges);
    }

    public int size() {
      return symbols.size();
    }

    /** The Hugging Face {@code tokenizer.json} document. */
    public String toJson() {
      JsonObject root = new JsonObject();
      root.addProperty("version", "1.0");
      root.add("truncation", JsonNull.INSTANCE);
      root.add("padding", JsonNull.INSTANCE);
      JsonArray added = new JsonArray();
      JsonObject special = new JsonObject();
      special.addProperty("id", 0);
      special.addProperty("content", SPECIAL);
      special.addProperty("single_word", false);
      special.addProperty("lstrip", false);
      special.addProperty("rstrip", false);
      special.addProperty("normalized", false);
      special.addProperty("special", true);
      added.add(special);
      root.add("added_tokens", added);
      root.add("normalizer", JsonNull.INSTANCE);
      root.add("pre_tokenizer", byteLevel());
      root.add("post_processor", byteLevel());
      root.add("decoder", byteLevel());
      JsonObject model = new JsonObject();
      model.addProperty("type", "BPE");
      model.add("dropout", JsonNull.INSTANCE);
      model.add("unk_token", JsonNull.INSTANCE);
      model.add("continuing_subword_prefix", JsonNull.INSTANCE);
      model.add("end_of_word_suffix", JsonNull.INSTANCE);
      model.addProperty("fuse_unk", false);
      model.addProperty("byte_fallback", false);
      JsonObject vocab = new JsonObject();
      for (int i = 0; i < symbols.size(); i++) {
        vocab.addProperty(symbols.get(i), i);
      }
      model.add("vocab", vocab);
      JsonArray mergeList = new JsonArray();
      for (String[] m : merges) {
        mergeList.add(m[0] + " " + m[1]);
      }
      model.add("merges", mergeList);
      root.add("model", model);
      return new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create().toJson(root)
          + "\n";
    }

    /** Writes {@code tokenizer.json}. */
    public void write(Path file) {
      try {
        if (file.toAbsolutePath().getParent() != null) {
          Files.createDirectories(file.toAbsolutePath().getParent());
        }
        Files.writeString(file, toJson(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
      }
    }

    private static JsonObject byteLevel() {
      JsonObject o = new JsonObject();
      o.addProperty("type", "ByteLevel");
      o.addProperty("add_prefix_space", false);
      o.addProperty("trim_offsets", true);
      o.addProperty("use_regex", true);
      return o;
    }
  }

  /** Learns the vocabulary from {@code text}. */
  public Vocabulary train(String text) {
    // distinct pieces with their counts; TreeMap for a deterministic word order
    Map<String, Long> counts = new TreeMap<>();
    Matcher m = PIECES.matcher(text);
    while (m.find()) {
      counts.merge(mapBytes(m.group()), 1L, Long::sum);
    }
    List<String> symbols = new ArrayList<>();
    Map<String, Integer> ids = new HashMap<>();
    symbols.add(SPECIAL);
    for (int b = 0; b < 256; b++) {
      String s = String.valueOf(BYTE_TO_CHAR[b]);
      ids.put(s, symbols.size());
      symbols.add(s);
    }
    int n = counts.size();
    int[][] words = new int[n][];
    long[] freq = new long[n];
    int w = 0;
    for (Map.Entry<String, Long> e : counts.entrySet()) {
      String piece = e.getKey();
      words[w] = new int[piece.length()];
      for (int i = 0; i < piece.length(); i++) {
        words[w][i] = ids.get(String.valueOf(piece.charAt(i)));
      }
      freq[w++] = e.getValue();
    }
    Map<Long, Long> pairCounts = new HashMap<>();
    Map<Long, Set<Integer>> pairWords = new HashMap<>();
    for (int i = 0; i < n; i++) {
      addPairs(words[i], i, freq[i], pairCounts, pairWords, 1);
    }
    List<String[]> merges = new ArrayList<>();
    while (symbols.size() < vocabSize) {
      long best = -1;
      long bestCount = 1; // a merge must occur at least twice
      for (Map.Entry<Long, Long> e : pairCounts.entrySet()) {
        long c = e.getValue();
        if (c > bestCount
            || (c == bestCount && best >= 0 && c > 1 && lessThan(e.getKey(), best, symbols))) {
          best = e.getKey();
          bestCount = c;
        }
      }
      if (best < 0) {
        break;
      }
      int left = (int) (best >>> 32);
      int right = (int) best;
      int merged = symbols.size();
      symbols.add(symbols.get(left) + symbols.get(right));
      merges.add(new String[] {symbols.get(left), symbols.get(right)});
      for (int i : new ArrayList<>(pairWords.getOrDefault(best, Set.of()))) {
        int[] next = mergeWord(words[i], left, right, merged);
        if (next != words[i]) {
          addPairs(words[i], i, freq[i], pairCounts, pairWords, -1);
          words[i] = next;
          addPairs(next, i, freq[i], pairCounts, pairWords, 1);
        }
      }
      pairCounts.remove(best);
      pairWords.remove(best);
    }
    return new Vocabulary(symbols, merges);
  }

  private static boolean lessThan(long a, long b, List<String> symbols) {
    int c = symbols.get((int) (a >>> 32)).compareTo(symbols.get((int) (b >>> 32)));
    if (c != 0) {
      return c < 0;
    }
    return symbols.get((int) a).compareTo(symbols.get((int) b)) < 0;
  }

  private static void addPairs(
      int[] word,
      int index,
      long freq,
      Map<Long, Long> pairCounts,
      Map<Long, Set<Integer>> pairWords,
      int sign) {
    for (int i = 0; i + 1 < word.length; i++) {
      long pair = ((long) word[i] << 32) | (word[i + 1] & 0xFFFFFFFFL);
      long c = pairCounts.getOrDefault(pair, 0L) + sign * freq;
      if (c == 0) {
        pairCounts.remove(pair);
      } else {
        pairCounts.put(pair, c);
      }
      if (sign > 0) {
        pairWords.computeIfAbsent(pair, k -> new HashSet<>()).add(index);
      }
    }
  }

  /** {@code word} with every left-to-right occurrence of (left, right) replaced by merged. */
  private static int[] mergeWord(int[] word, int left, int right, int merged) {
    int[] out = new int[word.length];
    int n = 0;
    boolean changed = false;
    for (int i = 0; i < word.length; i++) {
      if (i + 1 < word.length && word[i] == left && word[i + 1] == right) {
        out[n++] = merged;
        i++;
        changed = true;
      } else {
        out[n++] = word[i];
      }
    }
    return changed ? java.util.Arrays.copyOf(out, n) : word;
  }

  /** GPT-2's byte-to-character table: printable bytes map to themselves, the rest upward. */
  static final char[] BYTE_TO_CHAR = byteToChar();

  private static char[] byteToChar() {
    char[] table = new char[256];
    boolean[] printable = new boolean[256];
    for (int b = 0; b < 256; b++) {
      printable[b] = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    }
    int next = 0;
    for (int b = 0; b < 256; b++) {
      table[b] = printable[b] ? (char) b : (char) (256 + next++);
    }
    return table;
  }

  /** A piece's UTF-8 bytes as byte-level characters. */
  static String mapBytes(String piece) {
    byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
    StringBuilder s = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      s.append(BYTE_TO_CHAR[b & 0xFF]);
    }
    return s.toString();
  }
}
