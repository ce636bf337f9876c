package qdm.perplexity;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import qdm.data.Window;
import qdm.data.Windowing;
import qdm.model.Capture;
import qdm.model.Transformer;

/**
 * Perplexity of a model over a token stream, chunked or sliding-window (see {@link Windowing}). The
 * library form of what the audit job computes in Spark from {@code token_nll}.
 */
public final class Perplexity {
  private Perplexity() {}

  /** Chunked perplexity: non-overlapping windows of {@code length}, batches of {@code batch}. */
  public static NllTotal chunked(Transformer model, int[] stream, int length, int batch) {
    return over(model, Windowing.chunks(stream, length), batch);
  }

  /** Sliding-window perplexity (window {@code length}, stride {@code stride}). */
  public static NllTotal sliding(
      Transformer model, int[] stream, int length, int stride, int batch) {
    return over(model, Windowing.sliding(stream, length, stride), batch);
  }

  /** Scores every window's targets; windows of equal length are batched together in order. */
  public static NllTotal over(Transformer model, List<Window> windows, int batch) {
    NllTotal total = new NllTotal();
    List<Window> group = new ArrayList<>();
    for (Window w : windows) {
      if (!group.isEmpty() && (group.size() == batch || group.get(0).length() != w.length())) {
        score(model, group, total);
        group.clear();
      }
      group.add(w);
    }
    if (!group.isEmpty()) {
      score(model, group, total);
    }
    return total;
  }

  private static void score(Transformer model, List<Window> group, NllTotal total) {
    float[][] nll = nll(model, group);
    double sum = 0;
    long count = 0;
    for (int b = 0; b < group.size(); b++) {
      Window w = group.get(b);
      for (int p = w.firstScoredPosition(); p < w.length() - 1; p++) {
        sum += nll[b][p];
        count++;
      }
    }
    total.addBatch(sum, count);
  }

  /** Per-position NLL rows [B][T - 1] for windows of equal length. */
  public static float[][] nll(Transformer model, List<Window> group) {
    int length = group.get(0).length();
    long[] ids = new long[group.size() * length];
    for (int b = 0; b < group.size(); b++) {
      int[] tokens = group.get(b).tokens();
      for (int t = 0; t < length; t++) {
        ids[b * length + t] = tokens[t];
      }
    }
    NDManager root = model.weights().manager();
    try (NDManager batch = root.newSubManager()) {
      NDArray tokens = batch.create(ids, new Shape(group.size(), length));
      float[] flat = model.forward(tokens, Capture.nllOnly()).nll().orElseThrow().toFloatArray();
      float[][] out = new float[group.size()][length - 1];
      for (int b = 0; b < group.size(); b++) {
        System.arraycopy(flat, b * (length - 1), out[b], 0, length - 1);
      }
      return out;
    }
  }
}
