package qdm.sae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

/**
 * The test oracle: an SAE computed with loops over float arrays in double precision, following the
 * published definitions directly (SAELens / Gemma Scope / sparsify), with the input normalization
 * applied at run time (x * scale in, x_hat / scale out) rather than folded.
 *
 * @param rule standard, jumprelu or topk
 * @param k features kept per token (topk)
 * @param scale the expected_average_only_in factor (1 for none)
 */
record NaiveSae(String rule, Fixtures.Weights w, boolean applyBDec, int k, double scale) {
  /** Entries closer than this to their firing boundary may legitimately differ in float32. */
  static final double MARGIN = 1e-4;

  /** Activations [n, dSae] and, per entry, the distance of its pre-activation to the boundary. */
  record Codes(int n, int dSae, double[] acts, double[] margin) {}

  Codes encode(float[] x, int n) {
    int dIn = w.dIn();
    int dSae = w.dSae();
    double[] pre = new double[n * dSae];
    for (int t = 0; t < n; t++) {
      for (int f = 0; f < dSae; f++) {
        double s = w.bEnc()[f];
        for (int i = 0; i < dIn; i++) {
          double in = x[t * dIn + i] * scale - (applyBDec ? w.bDec()[i] : 0);
          s += in * w.wEnc()[i * dSae + f];
        }
        pre[t * dSae + f] = s;
      }
    }
    double[] acts = new double[pre.length];
    double[] margin = new double[pre.length];
    for (int t = 0; t < n; t++) {
      double kth = 0;
      double gap = Double.POSITIVE_INFINITY;
      if (rule.equals("topk")) {
        double[] row = new double[dSae];
        for (int f = 0; f < dSae; f++) {
          row[f] = Math.max(pre[t * dSae + f], 0);
        }
        Arrays.sort(row);
        kth = row[dSae - k];
        gap = kth - (k < dSae ? row[dSae - k - 1] : 0);
      }
      for (int f = 0; f < dSae; f++) {
        int j = t * dSae + f;
        double p = pre[j];
        switch (rule) {
          case "standard" -> {
            acts[j] = Math.max(p, 0);
            margin[j] = Math.abs(p);
          }
          case "jumprelu" -> {
            double th = w.threshold()[f];
            acts[j] = p > th && p > 0 ? p : 0;
            margin[j] = Math.min(Math.abs(p - th), Math.abs(p));
          }
          case "topk" -> {
            double r = Math.max(p, 0);
            acts[j] = r >= kth && r > 0 ? r : 0;
            margin[j] = Math.min(Math.abs(p), gap < MARGIN ? Math.abs(r - kth) : 1);
          }
          default -> throw new IllegalArgumentException(rule);
        }
      }
    }
    return new Codes(n, dSae, acts, margin);
  }

  /** Reconstructions [n, dIn] of activations, in the unscaled input space. */
  double[] decode(double[] acts, int n) {
    int dIn = w.dIn();
    int dSae = w.dSae();
    double[] out = new double[n * dIn];
    for (int t = 0; t < n; t++) {
      for (int j = 0; j < dIn; j++) {
        double s = w.bDec()[j];
        for (int f = 0; f < dSae; f++) {
          s += acts[t * dSae + f] * w.wDec()[f * dIn + j];
        }
        out[t * dIn + j] = s / scale;
      }
    }
    return out;
  }

  /**
   * Asserts dense activations agree with the oracle to 1e-4 (relative to the activation scale),
   * except entries within {@link #MARGIN} of their boundary; returns how many entries fire.
   */
  static int assertMatches(Codes expected, float[] actual) {
    assertEquals(expected.acts().length, actual.length, "number of activations");
    int firing = 0;
    int excused = 0;
    for (int j = 0; j < actual.length; j++) {
      if (expected.margin()[j] < MARGIN) {
        excused++;
        continue;
      }
      double e = expected.acts()[j];
      assertEquals(
          e,
          actual[j],
          1e-4 * Math.max(1, Math.abs(e)),
          "activation of token " + j / expected.dSae() + ", feature " + j % expected.dSae());
      if (e > 0) {
        firing++;
      }
    }
    assertTrue(excused < actual.length / 100, excused + " entries at the boundary");
    return firing;
  }
}
