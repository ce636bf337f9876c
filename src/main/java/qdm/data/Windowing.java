package qdm.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts a token stream into windows, the two ways perplexity is measured.
 *
 * <p>Chunked: non-overlapping windows of length T; a tail shorter than T is dropped (the paper uses
 * 390 x 512 = 199,680 of a 200k budget). Every window scores targets 1..T-1.
 *
 * <p>Sliding (Hugging Face "perplexity of fixed-length models"): windows of length W start every S
 * tokens; each window scores only the targets no earlier window scored (the last {@code end -
 * previousEnd} of its tokens), and the last window ends at the stream's end. With stride < W, every
 * token of the stream but the first is scored exactly once, with as much left context as the window
 * allows.
 */
public final class Windowing {
  private Windowing() {}

  /** Non-overlapping windows of {@code length} tokens. */
  public static List<Window> chunks(int[] stream, int length) {
    if (length < 2) {
      throw new IllegalArgumentException("chunk length must be at least 2, got " + length);
    }
    List<Window> out = new ArrayList<>();
    for (int i = 0; (long) (i + 1) * length <= stream.length; i++) {
      int start = i * length;
      out.add(
          new Window(i, Window.CHUNK, start, Arrays.copyOfRange(stream, start, start + length), 0));
    }
    return out;
  }

  /** Sliding windows of {@code length} tokens, a new one every {@code stride} tokens. */
  public static List<Window> sliding(int[] stream, int length, int stride) {
    if (length < 2 || stride < 1 || stride >= length) {
      // stride == length would start windows exactly where scoring resumes, and a window's first
      // token is never a target: those tokens would go unscored
      throw new IllegalArgumentException(
          "sliding windows need length >= 2 and 1 <= stride < length; got length "
              + length
              + ", stride "
              + stride);
    }
    List<Window> out = new ArrayList<>();
    int previousEnd = 0;
    for (int begin = 0; begin < stream.length; begin += stride) {
      int end = Math.min(begin + length, stream.length);
      int targets = end - previousEnd;
      int[] tokens = Arrays.copyOfRange(stream, begin, end);
      out.add(new Window(out.size(), Window.SLIDE, begin, tokens, tokens.length - targets));
      previousEnd = end;
      if (end == stream.length) {
        break;
      }
    }
    return out;
  }
}
