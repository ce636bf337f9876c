package qdm.data;

import java.util.Arrays;
import java.util.Iterator;
import qdm.tokenize.Tokenizer;

/**
 * Tokenizes a corpus into one token stream, as the paper does: documents joined with a separator
 * (WikiText: lines joined by "\n\n") and tokenized as one text, without special tokens.
 *
 * <p>Only as much text as the budget needs is read: documents are appended until the text is long
 * enough, the whole joined prefix is tokenized, and if the tokens fall short more text is read
 * (doubling). The text is always tokenized from its start, and at least {@link #MARGIN} tokens
 * beyond the budget are required before cutting (unless the corpus ends), so the kept tokens are
 * exactly those of tokenizing the whole corpus.
 */
public final class TokenStream {
  /** Tokens past the budget that must exist before cutting, so the cut word is complete. */
  static final int MARGIN = 64;

  /** Initial guess of characters per token. */
  private static final int CHARS_PER_TOKEN = 6;

  private TokenStream() {}

  /** The first {@code budget} tokens of the corpus (fewer if the corpus is shorter). */
  public static int[] build(
      Iterator<String> documents, Tokenizer tokenizer, String separator, long budget) {
    StringBuilder text = new StringBuilder();
    boolean first = true;
    long targetChars = Math.max(1 << 16, (budget + MARGIN) * CHARS_PER_TOKEN);
    while (true) {
      while (text.length() < targetChars && documents.hasNext()) {
        if (!first) {
          text.append(separator);
        }
        text.append(documents.next());
        first = false;
      }
      long[] ids = tokenizer.encode(text.toString());
      boolean exhausted = !documents.hasNext();
      if (ids.length >= budget + MARGIN || exhausted) {
        int n = (int) Math.min(ids.length, budget);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
          out[i] = Math.toIntExact(ids[i]);
        }
        return out;
      }
      targetChars *= 2;
    }
  }

  /** {@code stream} with {@code bos} in front. */
  public static int[] withBos(int[] stream, int bos) {
    int[] out = new int[stream.length + 1];
    out[0] = bos;
    System.arraycopy(stream, 0, out, 1, stream.length);
    return out;
  }

  /** The first {@code n} tokens. */
  public static int[] prefix(int[] stream, long n) {
    return Arrays.copyOf(stream, (int) Math.min(n, stream.length));
  }
}
