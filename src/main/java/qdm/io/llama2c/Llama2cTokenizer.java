package qdm.io.llama2c;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import qdm.QdmException;

/**
 * llama2.c's {@code tokenizer.bin} (the Llama-2 SentencePiece vocabulary: an int32 maximum piece
 * length, then per token a float32 score, an int32 length and the piece's UTF-8 bytes, with
 * SentencePiece's "▁" written as a space) and its conversion to a Hugging Face {@code
 * tokenizer.json} that encodes the same way: BPE with byte fallback over pieces with "▁", a "▁"
 * prepended to the text and spaces written as "▁", and merges ranked as SentencePiece merges: the
 * merge that makes the higher-scoring piece first.
 *
 * <p>Ids 0, 1, 2 are {@code <unk>}, {@code <s>}, {@code </s>}; ids 3 to 258 the byte pieces {@code
 * <0x00>} .. {@code <0xFF>} (older exports wrote the byte as the character of that code point; both
 * are read).
 */
public final class Llama2cTokenizer {
  static final int BYTE_PIECES = 3;
  static final String SPACE = "\u2581";

  /** The pieces in id order (Hugging Face spelling) and their scores. */
  private final List<String> pieces;

  private final float[] scores;

  private Llama2cTokenizer(List<String> pieces, float[] scores) {
    this.pieces = List.copyOf(pieces);
    this.scores = scores;
  }

  /** Reads {@code file}; it must hold exactly {@code vocab} tokens (the checkpoint's). */
  public static Llama2cTokenizer read(Path file, int vocab) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new QdmException(file + ": cannot read: " + e.getMessage());
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (b.remaining() < 4) {
      throw new QdmException(file + ": too short for a llama2.c tokenizer.bin");
    }
    int maxLength = b.getInt();
    List<String> pieces = new ArrayList<>();
    List<Float> scores = new ArrayList<>();
    while (b.hasRemaining()) {
      if (b.remaining() < 8) {
        throw new QdmException(
            file + ": truncated inside token " + pieces.size() + " (a llama2.c tokenizer.bin)");
      }
      float score = b.getFloat();
      int length = b.getInt();
      if (length < 0 || length > maxLength || length > b.remaining()) {
        throw new QdmException(
            file
                + ": token "
                + pieces.size()
                + " has length "
                + length
                + " (maximum "
                + maxLength
                + ", "
                + b.remaining()
                + " bytes left): not a "
                + "llama2.c tokenizer.bin, or truncated");
      }
      byte[] piece = new byte[length];
      b.get(piece);
      pieces.add(piece(pieces.size(), piece));
      scores.add(score);
    }
    if (pieces.size() != vocab) {
      throw new QdmException(
          file
              + ": "
              + pieces.size()
              + " tokens, but the checkpoint's vocabulary has "
              + vocab
              + ": a tokenizer of another model");
    }
    float[] s = new float[scores.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = scores.get(i);
    }
    return new Llama2cTokenizer(pieces, s);
  }

  /** A piece in Hugging Face's spelling. */
  private static String piece(int id, byte[] raw) {
    switch (id) {
      case 0:
        return "<unk>";
      case 1:
        return "<s>";
      case 2:
        return "</s>";
      default:
        break;
    }
    if (id < BYTE_PIECES + 256) {
      // a byte piece: "<0xXX>", or (older exports) the byte as the code point of that value
      String text = new String(raw, StandardCharsets.UTF_8);
      int value = text.codePointCount(0, text.length()) == 1 ? text.codePointAt(0) : -1;
      if (text.matches("<0x[0-9A-Fa-f]{2}>")) {
        value = Integer.parseInt(text.substring(3, 5), 16);
      }
      if (value == id - BYTE_PIECES) {
        return String.format(Locale.ROOT, "<0x%02X>", value);
      }
    }
    return new String(raw, StandardCharsets.UTF_8).replace(" ", SPACE);
  }

  public int size() {
    return pieces.size();
  }

  public String piece(int id) {
    return pieces.get(id);
  }

  public float score(int id) {
    return scores[id];
  }

  /** Whether {@code id} is a normal piece (not a special token nor a byte piece). */
  boolean normal(int id) {
    return id >= BYTE_PIECES + 256 || (id >= BYTE_PIECES && !pieces.get(id).startsWith("<0x"));
  }

  /**
   * The BPE merges that reproduce SentencePiece's greedy highest-score merging: every split of a
   * normal piece into two normal pieces, ordered by the merged piece's score (highest first), then
   * its id, then the ids of its left and right parts.
   */
  List<String[]> merges() {
    Map<String, Integer> ids = new HashMap<>();
    for (int i = 0; i < pieces.size(); i++) {
      if (normal(i)) {
        ids.putIfAbsent(pieces.get(i), i);
      }
    }
    record Merge(int piece, int left, int right) {}
    List<Merge> merges = new ArrayList<>();
    for (int i = 0; i < pieces.size(); i++) {
      String p = pieces.get(i);
      if (!normal(i) || p.codePointCount(0, p.length()) < 2) {
        continue;
      }
      for (int at = p.offsetByCodePoints(0, 1); at < p.length(); at = p.offsetByCodePoints(at, 1)) {
        Integer l = ids.get(p.substring(0, at));
        Integer r = ids.get(p.substring(at));
        if (l != null && r != null) {
          merges.add(new Merge(i, l, r));
        }
      }
    }
    merges.sort(
        Comparator.comparingDouble((Merge m) -> -scores[m.piece()])
            .thenComparingInt(Merge::piece)
            .thenComparingInt(Merge::left)
            .thenComparingInt(Merge::right));
    List<String[]> out = new ArrayList<>();
    for (Merge m : merges) {
      out.add(new String[] {pieces.get(m.left()), pieces.get(m.right())});
    }
    return out;
  }

  /** The Hugging Face {@code tokenizer.json} of this vocabulary (Llama-2's layout). */
  public JsonObject toTokenizerJson() {
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", JsonNull.INSTANCE);
    root.add("padding", JsonNull.INSTANCE);
    JsonArray added = new JsonArray();
    for (int id = 0; id < BYTE_PIECES; id++) {
      JsonObject t = new JsonObject();
      t.addProperty("id", id);
      t.addProperty("content", pieces.get(id));
      t.addProperty("single_word", false);
      t.addProperty("lstrip", false);
      t.addProperty("rstrip", false);
      t.addProperty("normalized", false);
      t.addProperty("special", true);
      added.add(t);
    }
    root.add("added_tokens", added);

    JsonArray normalizers = new JsonArray();
    JsonObject prepend = new JsonObject();
    prepend.addProperty("type", "Prepend");
    prepend.addProperty("prepend", SPACE);
    normalizers.add(prepend);
    normalizers.add(replace(" ", SPACE));
    JsonObject normalizer = new JsonObject();
    normalizer.addProperty("type", "Sequence");
    normalizer.add("normalizers", normalizers);
    root.add("normalizer", normalizer);
    root.add("pre_tokenizer", JsonNull.INSTANCE);
    root.add("post_processor", JsonNull.INSTANCE);

    JsonArray decoders = new JsonArray();
    decoders.add(replace(SPACE, " "));
    decoders.add(type("ByteFallback"));
    decoders.add(type("Fuse"));
    JsonObject strip = type("Strip");
    strip.addProperty("content", " ");
    strip.addProperty("start", 1);
    strip.addProperty("stop", 0);
    decoders.add(strip);
    JsonObject decoder = type("Sequence");
    decoder.add("decoders", decoders);
    root.add("decoder", decoder);

    JsonObject model = type("BPE");
    model.add("dropout", JsonNull.INSTANCE);
    model.addProperty("unk_token", "<unk>");
    model.add("continuing_subword_prefix", JsonNull.INSTANCE);
    model.add("end_of_word_suffix", JsonNull.INSTANCE);
    model.addProperty("fuse_unk", true);
    model.addProperty("byte_fallback", true);
    JsonObject vocab = new JsonObject();
    for (int i = 0; i < pieces.size(); i++) {
      if (!vocab.has(pieces.get(i))) {
        vocab.addProperty(pieces.get(i), i);
      }
    }
    model.add("vocab", vocab);
    JsonArray merges = new JsonArray();
    for (String[] m : merges()) {
      merges.add(m[0] + " " + m[1]);
    }
    model.add("merges", merges);
    root.add("model", model);
    return root;
  }

  private static JsonObject type(String type) {
    JsonObject o = new JsonObject();
    o.addProperty("type", type);
    return o;
  }

  private static JsonObject replace(String from, String to) {
    JsonObject r = type("Replace");
    JsonObject pattern = new JsonObject();
    pattern.addProperty("String", from);
    r.add("pattern", pattern);
    r.addProperty("content", to);
    return r;
  }
}
