package qdm.measure;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;
import qdm.model.TorchEngine;

/**
 * {@link TokenMetrics} against a naive float64 loop over the full vocabulary, written from the
 * definitions: softmax, KL(p_ref || p_c), Δp of the actual next token, top-1 agreement, NLL.
 */
class TokenMetricsTest {
  private static final int ROWS = 37;
  private static final int VOCAB = 70_001; // more than one slice of 2^20 elements per 37 rows

  /** Naive per-row figures: {nll, kl, deltaP, top1Same}. */
  private static double[] naive(float[] ref, float[] cond, int row, int y) {
    double[] lr = logSoftmax(ref, row);
    double[] lc = logSoftmax(cond, row);
    double kl = 0;
    for (int v = 0; v < VOCAB; v++) {
      kl += Math.exp(lr[v]) * (lr[v] - lc[v]);
    }
    return new double[] {
      -lc[y], kl, Math.exp(lc[y]) - Math.exp(lr[y]), argmax(ref, row) == argmax(cond, row) ? 1 : 0
    };
  }

  private static double[] logSoftmax(float[] z, int row) {
    double max = Double.NEGATIVE_INFINITY;
    for (int v = 0; v < VOCAB; v++) {
      max = Math.max(max, z[row * VOCAB + v]);
    }
    double s = 0;
    for (int v = 0; v < VOCAB; v++) {
      s += Math.exp(z[row * VOCAB + v] - max);
    }
    double lse = max + Math.log(s);
    double[] out = new double[VOCAB];
    for (int v = 0; v < VOCAB; v++) {
      out[v] = z[row * VOCAB + v] - lse;
    }
    return out;
  }

  private static int argmax(float[] z, int row) {
    int best = 0;
    for (int v = 1; v < VOCAB; v++) {
      if (z[row * VOCAB + v] > z[row * VOCAB + best]) {
        best = v;
      }
    }
    return best;
  }

  @Test
  void klDeltaPTop1AndNllMatchANaiveLoopOverTheVocabulary() {
    Random rnd = new Random(7);
    float[] ref = new float[ROWS * VOCAB];
    float[] cond = new float[ROWS * VOCAB];
    for (int i = 0; i < ref.length; i++) {
      ref[i] = (float) (3 * rnd.nextGaussian());
      // small perturbations for most rows (KL ~ 1e-6), large ones for the last rows
      double scale = (i / VOCAB) < 30 ? 0.002 : 1.0;
      cond[i] = (float) (ref[i] + scale * rnd.nextGaussian());
    }
    long[] targets = new long[ROWS];
    for (int r = 0; r < ROWS; r++) {
      targets[r] = rnd.nextInt(VOCAB);
    }
    try (NDManager m = TorchEngine.newManager(Device.cpu())) {
      NDArray refLogits = m.create(ref, new Shape(ROWS, VOCAB));
      NDArray condLogits = m.create(cond, new Shape(ROWS, VOCAB));
      NDArray y = m.create(targets, new Shape(ROWS, 1));
      TokenMetrics.Reference r = TokenMetrics.Reference.of(refLogits, y);
      TokenMetrics.Values v = TokenMetrics.compare(r, condLogits, y);
      assertEquals(-1, v.firstNonFinite());
      for (int row = 0; row < ROWS; row++) {
        double[] want = naive(ref, cond, row, (int) targets[row]);
        assertEquals(want[0], v.nll()[row], 1e-9 * Math.abs(want[0]) + 1e-12, "nll " + row);
        // p_ref is kept in float32 between conditions: about 1e-11 absolute on a KL of 1e-6
        assertEquals(want[1], v.kl()[row], 1e-5 * want[1] + 1e-11, "kl " + row);
        assertEquals(want[2], v.deltaP()[row], 1e-12, "delta_p " + row);
        assertEquals(want[3] == 1, v.top1Same()[row], "top1 " + row);
      }
      assertTrue(v.kl()[0] > 1e-7 && v.kl()[0] < 1e-4, "a small KL survives: " + v.kl()[0]);

      // the reference against itself: exactly 0 and all the same
      TokenMetrics.Values self = TokenMetrics.compare(r, refLogits, y);
      assertArrayEquals(new double[ROWS], self.kl());
      assertArrayEquals(new double[ROWS], self.deltaP());
      for (boolean same : self.top1Same()) {
        assertTrue(same);
      }
      assertArrayEquals(TokenMetrics.nll(refLogits, y), self.nll());
    }
  }

  @Test
  void aNonFiniteLogitIsFoundInItsRow() {
    try (NDManager m = TorchEngine.newManager(Device.cpu())) {
      float[] z = new float[4 * 10];
      z[2 * 10 + 3] = Float.NaN;
      z[3 * 10 + 1] = Float.NEGATIVE_INFINITY;
      NDArray logits = m.create(z, new Shape(4, 10));
      NDArray y = m.create(new long[] {0, 1, 2, 3}, new Shape(4, 1));
      NDArray clean = m.zeros(new Shape(4, 10));
      TokenMetrics.Reference r = TokenMetrics.Reference.of(clean, y);
      assertEquals(2, TokenMetrics.compare(r, logits, y).firstNonFinite());
      z[2 * 10 + 3] = 0;
      assertEquals(3, TokenMetrics.compare(r, m.create(z, new Shape(4, 10)), y).firstNonFinite());
    }
  }
}
