package qdm.tokenize;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import qdm.QdmException;

/**
 * A Hugging Face {@code tokenizer.json} loaded with DJL's tokenizers binding, configured for
 * measurement rather than chat: no truncation (DJL truncates to 512 tokens by default), no padding
 * and no special tokens unless asked, so a document tokenizes to exactly its tokens.
 */
public final class Tokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final Path file;

  private Tokenizer(HuggingFaceTokenizer tokenizer, Path file) {
    this.tokenizer = tokenizer;
    this.file = file;
  }

  /** Loads {@code tokenizer.json}; never touches the network. */
  public static Tokenizer load(Path tokenizerJson) {
    return load(tokenizerJson, false);
  }

  /** Loads {@code tokenizer.json}, adding the tokenizer's special tokens when asked. */
  public static Tokenizer load(Path tokenizerJson, boolean addSpecialTokens) {
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new QdmException(tokenizerJson + ": tokenizer file not found");
    }
    Map<String, String> options =
        Map.of(
            "addSpecialTokens", Boolean.toString(addSpecialTokens),
            "truncation", "false",
            "padding", "false");
    try {
      return new Tokenizer(HuggingFaceTokenizer.newInstance(tokenizerJson, options), tokenizerJson);
    } catch (IOException | RuntimeException e) {
      throw new QdmException(tokenizerJson + ": cannot load tokenizer: " + e.getMessage(), e);
    }
  }

  /** Token ids of {@code text}. */
  public long[] encode(String text) {
    Encoding e = tokenizer.encode(text);
    return e.getIds();
  }

  /** Text of token ids. */
  public String decode(long[] ids) {
    return tokenizer.decode(ids, false);
  }

  /** The string form of each token id (for reports: "top contexts"). */
  public String[] tokens(String text) {
    return tokenizer.encode(text).getTokens();
  }

  public Path file() {
    return file;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
