package qdm.measure;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import qdm.sae.SparseCodes;

/**
 * {@link FeatureSums} per chunk window, sparse: for each window of a batch, one entry per feature
 * the condition's code is non-zero on somewhere in the window, with that window's non-zero and
 * firing counts, #(x &gt; 0 ∧ y &gt; 0), the minimum and maximum of y and the limbs of Σy, Σy² and
 * Σxy (x the reference's code). A feature absent from a window contributes nothing there.
 *
 * <p>Why per window: the stability checks (token budgets, window subsets, the bootstrap over
 * windows) are sums of these over window sets, exact because the sums are limbs. Sparse, because a
 * window of T tokens touches at most T × L0 of the d_sae features.
 */
public final class WindowSums {
  /** Longs per feature in {@link Window#stats}: the three counts, then 3 limbs of each sum. */
  public static final int LONGS = 12;

  /** Doubles per feature in {@link Window#minMax}: min and max of y. */
  public static final int DOUBLES = 2;

  private WindowSums() {}

  /**
   * One window's entries.
   *
   * @param index the window's index in the batch
   * @param feature the features present, ascending
   * @param stats per feature {@link #LONGS} longs: non_zero, fired, both_fired, Σy, Σy², Σxy limbs
   * @param minMax per feature min and max of y
   */
  public record Window(int index, int[] feature, long[] stats, double[] minMax) {}

  /**
   * The windows of a batch of {@code length}-token windows: {@code x} the reference's codes, {@code
   * y} the condition's (both sorted by token, then feature).
   */
  public static List<Window> of(SparseCodes x, SparseCodes y, int length) {
    int windows = y.tokens() / length;
    int[] slot = new int[y.dSae()];
    Arrays.fill(slot, -1);
    int[] yt = y.token();
    int[] yf = y.feature();
    float[] ya = y.activation();
    int[] xt = x.token();
    int[] xf = x.feature();
    float[] xa = x.activation();
    List<Window> out = new ArrayList<>(windows);
    int yFrom = 0;
    int xFrom = 0;
    for (int w = 0; w < windows; w++) {
      int end = (w + 1) * length;
      int yTo = yFrom;
      while (yTo < yt.length && yt[yTo] < end) {
        yTo++;
      }
      int xTo = xFrom;
      while (xTo < xt.length && xt[xTo] < end) {
        xTo++;
      }
      int[] features = distinct(yf, yFrom, yTo, slot);
      for (int k = 0; k < features.length; k++) {
        slot[features[k]] = k;
      }
      int n = features.length;
      long[] counts = new long[3 * n];
      double[] minMax = new double[DOUBLES * n];
      for (int k = 0; k < n; k++) {
        minMax[2 * k] = Double.POSITIVE_INFINITY;
        minMax[2 * k + 1] = Double.NEGATIVE_INFINITY;
      }
      Limbs sumY = new Limbs(n);
      Limbs sumYy = new Limbs(n);
      Limbs sumXy = new Limbs(n);
      for (int i = yFrom; i < yTo; i++) {
        int k = slot[yf[i]];
        double v = ya[i];
        counts[3 * k]++;
        if (v > 0) {
          counts[3 * k + 1]++;
        }
        minMax[2 * k] = Math.min(minMax[2 * k], v);
        minMax[2 * k + 1] = Math.max(minMax[2 * k + 1], v);
        sumY.add(k, v);
        sumYy.add(k, v * v);
      }
      // Σxy and #both over the (token, feature) pairs non-zero on both sides
      int i = xFrom;
      int j = yFrom;
      long d = y.dSae();
      while (i < xTo && j < yTo) {
        long kx = (long) xt[i] * d + xf[i];
        long ky = (long) yt[j] * d + yf[j];
        if (kx < ky) {
          i++;
        } else if (ky < kx) {
          j++;
        } else {
          int k = slot[yf[j]];
          double xv = xa[i];
          double yv = ya[j];
          sumXy.add(k, xv * yv);
          if (xv > 0 && yv > 0) {
            counts[3 * k + 2]++;
          }
          i++;
          j++;
        }
      }
      long[] stats = new long[LONGS * n];
      for (int k = 0; k < n; k++) {
        System.arraycopy(counts, 3 * k, stats, LONGS * k, 3);
        System.arraycopy(sumY.limbs(k), 0, stats, LONGS * k + 3, 3);
        System.arraycopy(sumYy.limbs(k), 0, stats, LONGS * k + 6, 3);
        System.arraycopy(sumXy.limbs(k), 0, stats, LONGS * k + 9, 3);
        slot[features[k]] = -1;
      }
      out.add(new Window(w, features, stats, minMax));
      yFrom = yTo;
      xFrom = xTo;
    }
    return out;
  }

  /** The distinct features of {@code f[from, to)}, ascending; {@code seen} is all -1 on return. */
  private static int[] distinct(int[] f, int from, int to, int[] seen) {
    int[] found = new int[to - from];
    int n = 0;
    for (int i = from; i < to; i++) {
      if (seen[f[i]] < 0) {
        seen[f[i]] = 0;
        found[n++] = f[i];
      }
    }
    int[] out = Arrays.copyOf(found, n);
    Arrays.sort(out);
    for (int v : out) {
      seen[v] = -1;
    }
    return out;
  }
}
