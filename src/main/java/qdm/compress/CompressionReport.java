package qdm.compress;

import java.util.List;
import java.util.Locale;

/**
 * What one applied compression did to its target tensors, for logs and the condition table.
 *
 * @param compression the compression's canonical name
 * @param tensors the names of the target tensors (each distinct parameter once; a tied tensor
 *     under its first name)
 * @param parameters elements in the target tensors
 * @param zeros elements of the target tensors that are zero after compression
 * @param meanAbsError mean over the target elements of |w - w_hat| (float64)
 * @param maxAbsError the largest |w - w_hat| over the target elements
 * @param relativeError ||W - W_hat|| / ||W|| (Frobenius norms over all target elements together,
 *     float64; 0 without targets): the error in the units that matter for what a layer computes,
 *     comparable across models of different weight scales
 */
public record CompressionReport(String compression, List<String> tensors, long parameters,
    long zeros, double meanAbsError, double maxAbsError, double relativeError) {

  public CompressionReport {
    tensors = List.copyOf(tensors);
    if (parameters < 0 || zeros < 0 || zeros > parameters) {
      throw new IllegalArgumentException("bad counts: " + zeros + " zeros of " + parameters);
    }
  }

  /** Fraction of the target elements that are zero after compression (0 without targets). */
  public double sparsity() {
    return parameters == 0 ? 0 : (double) zeros / parameters;
  }

  /** One line for logs. */
  public String summary() {
    return String.format(Locale.ROOT,
        "%s: %d tensors, %,d parameters, sparsity %.4f, |w - w_hat| mean %.4g max %.4g, "
        + "relative %.4g", compression, tensors.size(), parameters, sparsity(), meanAbsError,
        maxAbsError, relativeError);
  }
}
