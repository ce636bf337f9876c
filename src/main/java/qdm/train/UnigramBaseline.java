package qdm.train;

import java.util.List;
import qdm.data.Window;

/**
 * The perplexity a model with no context would get: token frequencies counted on the training
 * stream, add-one smoothed over the vocabulary, scored on exactly the targets the language model's
 * chunked perplexity scores. A trained model must beat it by far.
 */
public final class UnigramBaseline {
  private UnigramBaseline() {}

  /** {@code exp(mean(-log p(target)))} over the scored targets of {@code windows}. */
  public static double perplexity(int[] train, int vocabSize, List<Window> windows) {
    long[] counts = new long[vocabSize];
    for (int t : train) {
      counts[t]++;
    }
    double denominator = train.length + (double) vocabSize;
    double nll = 0;
    long n = 0;
    for (Window w : windows) {
      int[] tokens = w.tokens();
      for (int j = Math.max(w.scoreFrom(), 1); j < tokens.length; j++) {
        nll -= Math.log((counts[tokens[j]] + 1) / denominator);
        n++;
      }
    }
    return Math.exp(nll / n);
  }
}
