package qdm.compress;

import java.util.List;
import java.util.Locale;

/**
 * What one applied compression did to its target tensors, for logs and the condition table.
 *
 * @param compression the condition's name
 * @param tensors the names of the target tensors (each distinct parameter once; a tied tensor under
 *     its first name)
 * @param parameters elements in the target tensors
 * @param zeros elements of the target tensors that are zero after compression
 * @param meanAbsError mean over the target elements of |w - w_hat| (float64)
 * @param maxAbsError the largest |w - w_hat| over the target elements
 * @param relativeError ||W - W_hat|| / ||W|| (Frobenius norms over all target elements together,
 *     float64; 0 without targets): the error in the units that matter for what a layer computes,
 *     comparable across models of different weight scales
 */
public record CompressionReport(
    String compression,
    List<String> tensors,
    long parameters,
    long zeros,
    double meanAbsError,
    double maxAbsError,
    double relativeError) {

  public CompressionReport {
    tensors = List.copyOf(tensors);
    if (parameters < 0 || zeros < 0 || zeros > parameters) {
      throw new IllegalArgumentException("bad counts: " + zeros + " zeros of " + parameters);
    }
  }

  /** The same report under the name of the condition it belongs to. */
  public CompressionReport named(String name) {
    return new CompressionReport(
        name, tensors, parameters, zeros, meanAbsError, maxAbsError, relativeError);
  }

  /** Fraction of the target elements that are zero after compression (0 without targets). */
  public double sparsity() {
    return parameters == 0 ? 0 : (double) zeros / parameters;
  }

  /** One line for logs. */
  public String summary() {
    return String.format(
        Locale.ROOT,
        "%s: %d tensors, %,d parameters, sparsity %.4f, |w - w_hat| mean %.4g max %.4g, "
            + "relative %.4g",
        compression,
        tensors.size(),
        parameters,
        sparsity(),
        meanAbsError,
        maxAbsError,
        relativeError);
  }

  /**
   * The report of weights that came from elsewhere (a checkpoint condition): {@code other} against
   * {@code base} over the tensors of {@code roles}, each distinct tensor once.
   */
  public static CompressionReport between(
      String name,
      qdm.model.Weights base,
      qdm.model.Weights other,
      java.util.Set<qdm.model.TensorRole> roles) {
    List<String> names = new java.util.ArrayList<>();
    java.util.Set<ai.djl.ndarray.NDArray> seen =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    long parameters = 0;
    long zeros = 0;
    double abs = 0;
    double max = 0;
    double diff = 0;
    double norm = 0;
    for (String n : base.names()) {
      if (!roles.contains(base.role(n)) || !other.has(n) || !seen.add(other.get(n))) {
        continue;
      }
      names.add(n);
      float[] a = base.get(n).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
      float[] b = other.get(n).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
      for (int i = 0; i < a.length; i++) {
        double d = (double) b[i] - a[i];
        abs += Math.abs(d);
        max = Math.max(max, Math.abs(d));
        diff += d * d;
        norm += (double) a[i] * a[i];
        zeros += b[i] == 0 ? 1 : 0;
      }
      parameters += a.length;
    }
    return new CompressionReport(
        name,
        names,
        parameters,
        zeros,
        parameters == 0 ? 0 : abs / parameters,
        max,
        norm == 0 ? 0 : Math.sqrt(diff / norm));
  }
}
