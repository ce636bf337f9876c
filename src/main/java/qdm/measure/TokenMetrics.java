package qdm.measure;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/**
 * The per-token comparison of a condition's next-token distribution with the reference's, as
 * llama.cpp's {@code perplexity --kl-divergence} reports it: the KL divergence from the reference,
 * the change in the probability of the actual next token and whether the most likely token stays
 * the same; and the condition's own NLL.
 *
 * <p>With z the logits, lse their log-sum-exp and p the reference's probabilities, {@code KL = Σ_v
 * p(v) (z_ref(v) − z_c(v)) − (lse_ref − lse_c)}: so the reference contributes p (kept in float32
 * between conditions), Σ p z_ref and lse_ref, and each condition needs only Σ p z_c and lse_c. All
 * reductions run in float64 over float32 logits (a KL of 1e-6 survives), both sides through the
 * same code ({@link #side}), so identical logits give a KL and Δp of exactly 0. The [rows, V] work
 * runs in slices of about 2^20 elements, in place where it can: on the CPU, fresh large arrays cost
 * more in page faults than in arithmetic.
 */
public final class TokenMetrics {
  private static final long SLICE_ELEMENTS = 1L << 20;

  private TokenMetrics() {}

  /**
   * The reference's side of a chunk of rows, kept while the conditions run: its probabilities [R,
   * V] (float32, on the device) and, per row, Σ p, Σ p z_ref, lse_ref, p_ref(y) and the argmax.
   */
  public record Reference(
      NDArray probs,
      double[] probSum,
      double[] expectedLogit,
      double[] logSumExp,
      double[] targetProb,
      long[] argmax) {

    /** The reference side of its logits [R, V] (float32) with next tokens int64 [R, 1]. */
    public static Reference of(NDArray logits, NDArray targets) {
      NDArray probs =
          logits.toType(DataType.FLOAT64, false).softmax(-1).toType(DataType.FLOAT32, false);
      double[] probSum = probs.toType(DataType.FLOAT64, false).sum(new int[] {-1}).toDoubleArray();
      Side s = side(logits, probs, probSum, targets);
      // (the reference's own non-finite logits show as a non-finite Σ p z or lse: see compare)
      double[] targetProb = new double[s.lse.length];
      for (int i = 0; i < targetProb.length; i++) {
        targetProb[i] = Math.exp(s.targetLogit[i] - s.lse[i]);
      }
      return new Reference(probs, probSum, s.expected, s.lse, targetProb, s.argmax);
    }
  }

  /**
   * Per-row values over R positions.
   *
   * @param nll −log p_c(y)
   * @param kl Σ_v p_ref(v) (log p_ref(v) − log p_c(v))
   * @param deltaP p_c(y) − p_ref(y)
   * @param top1Same argmax p_ref = argmax p_c
   * @param firstNonFinite the first row whose logits hold a NaN or an infinity, or -1
   */
  public record Values(
      double[] nll, double[] kl, double[] deltaP, boolean[] top1Same, int firstNonFinite) {}

  /**
   * Compares a condition's logits [R, V] (float32) with the reference's over the same rows; {@code
   * targets} are the actual next tokens, int64 [R, 1].
   */
  public static Values compare(Reference ref, NDArray logits, NDArray targets) {
    Side s = side(logits, ref.probs(), ref.probSum(), targets);
    int n = s.lse.length;
    double[] nll = new double[n];
    double[] kl = new double[n];
    double[] deltaP = new double[n];
    boolean[] top1 = new boolean[n];
    int bad = -1;
    for (int i = 0; i < n; i++) {
      // a NaN or +Inf logit makes lse non-finite; a -Inf one makes Σ p (z - max) -Inf, or NaN
      // where p underflowed to 0: either way one of the two is not finite
      if (bad < 0 && !(Double.isFinite(s.lse[i]) && Double.isFinite(s.expected[i]))) {
        bad = i;
      }
      double logP = s.targetLogit[i] - s.lse[i];
      nll[i] = -logP;
      kl[i] =
          (ref.expectedLogit()[i] - s.expected[i])
              - (ref.logSumExp()[i] - s.lse[i]) * ref.probSum()[i];
      deltaP[i] = Math.exp(logP) - ref.targetProb()[i];
      top1[i] = s.argmax[i] == ref.argmax()[i];
    }
    return new Values(nll, kl, deltaP, top1, bad);
  }

  /** −log p(y) per row of logits [R, V] (float32), in float64, for targets int64 [R, 1]. */
  public static double[] nll(NDArray logits, NDArray targets) {
    Side s = side(logits, null, null, targets);
    double[] out = new double[s.lse.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = s.lse[i] - s.targetLogit[i];
    }
    return out;
  }

  /**
   * The NLL of each of {@code targets} under one logits row [1, V]: for a prediction that is the
   * same at every position (see {@code AuditPass}'s zero-ablation splice).
   */
  public static double[] nllOfRow(NDArray logits, long[] targets) {
    NDArray first;
    try (NDManager scratch = logits.getManager().newSubManager()) {
      first = scratch.create(new long[] {0}, new ai.djl.ndarray.types.Shape(1, 1));
      double lse = side(logits, null, null, first).lse[0];
      float[] z = logits.toFloatArray();
      double[] out = new double[targets.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = lse - z[Math.toIntExact(targets[i])];
      }
      return out;
    }
  }

  /** What one side contributes per row; {@code expected} is Σ p z (null without p). */
  private record Side(double[] lse, double[] expected, double[] targetLogit, long[] argmax) {}

  private static Side side(NDArray logits, NDArray probs, double[] probSums, NDArray targets) {
    int rows = Math.toIntExact(logits.getShape().get(0));
    long vocab = logits.getShape().get(1);
    int slice = (int) Math.max(1, SLICE_ELEMENTS / vocab);
    double[] lse = new double[rows];
    double[] expected = probs == null ? null : new double[rows];
    double[] targetLogit =
        logits.gather(targets, 1).toType(DataType.FLOAT64, false).reshape(-1).toDoubleArray();
    long[] argmax = logits.argMax(-1).toType(DataType.INT64, false).toLongArray();
    for (int from = 0; from < rows; from += slice) {
      int to = Math.min(rows, from + slice);
      try (NDManager scratch = logits.getManager().newSubManager()) {
        NDIndex range = new NDIndex("{}:{}", from, to);
        NDArray z = logits.get(range);
        z.attach(scratch);
        NDArray a = z.toType(DataType.FLOAT64, false);
        NDArray max = a.max(new int[] {-1}, true);
        a.subi(max); // z - max
        double[] m = max.reshape(-1).toDoubleArray();
        if (probs != null) {
          NDArray p = probs.get(range);
          p.attach(scratch);
          NDArray pa = p.toType(DataType.FLOAT64, false);
          double[] e = pa.muli(a).sum(new int[] {-1}).toDoubleArray(); // Σ p (z - max)
          for (int i = 0; i < e.length; i++) {
            expected[from + i] = e[i] + m[i] * probSums[from + i];
          }
        }
        double[] se = a.exp().sum(new int[] {-1}).toDoubleArray();
        for (int i = 0; i < se.length; i++) {
          lse[from + i] = m[i] + Math.log(se[i]);
        }
      }
    }
    return new Side(lse, expected, targetLogit, argmax);
  }
}
