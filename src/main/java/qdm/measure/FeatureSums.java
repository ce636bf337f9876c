package qdm.measure;

import java.io.Serializable;
import java.util.Arrays;
import qdm.sae.SparseCodes;

/**
 * The per-feature sufficient statistics of one condition against the reference, over every token
 * position seen so far: with x the reference's code of a feature and y the condition's, n (the
 * positions), Σx, Σy, Σx², Σy², Σxy, #x&gt;0, #y&gt;0, #(x&gt;0 ∧ y&gt;0), plus what the analysis
 * needs besides (non-zero count, minimum and maximum of y, and Σ max(y, 0)).
 *
 * <p>Only the non-zero codes are visited: a zero adds nothing to any sum, and n counts positions.
 * The reference side (Σx, Σx², #x&gt;0) is the reference's own row, where y = x. Sums are {@link
 * Limbs}, so merging partial statistics from any tasks in any order gives the same table.
 */
public final class FeatureSums implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The summed quantities, in their {@link Limbs} order. */
  public enum Sum {
    Y,
    YY,
    XY,
    Y_POSITIVE
  }

  private final int features;
  private long positions;
  private final long[] nonZero;
  private final long[] fired;
  private final long[] bothFired;
  private final double[] min;
  private final double[] max;
  private final Limbs[] sums = new Limbs[Sum.values().length];

  public FeatureSums(int features) {
    this.features = features;
    nonZero = new long[features];
    fired = new long[features];
    bothFired = new long[features];
    min = new double[features];
    max = new double[features];
    Arrays.fill(min, Double.POSITIVE_INFINITY);
    Arrays.fill(max, Double.NEGATIVE_INFINITY);
    for (int i = 0; i < sums.length; i++) {
      sums[i] = new Limbs(features);
    }
  }

  /**
   * Adds one batch: {@code x} the reference's codes and {@code y} the condition's, of the same
   * tokens (both sorted by token, then feature, as {@link SparseCodes} are).
   */
  public void add(SparseCodes x, SparseCodes y) {
    if (x.tokens() != y.tokens() || x.dSae() != features || y.dSae() != features) {
      throw new IllegalArgumentException(
          "codes of "
              + x.tokens()
              + " and "
              + y.tokens()
              + " tokens for "
              + features
              + " features");
    }
    positions += y.tokens();
    int[] yf = y.feature();
    float[] ya = y.activation();
    for (int i = 0; i < yf.length; i++) {
      int f = yf[i];
      double v = ya[i];
      nonZero[f]++;
      if (v > 0) {
        fired[f]++;
        sums[Sum.Y_POSITIVE.ordinal()].add(f, v);
      }
      min[f] = Math.min(min[f], v);
      max[f] = Math.max(max[f], v);
      sums[Sum.Y.ordinal()].add(f, v);
      sums[Sum.YY.ordinal()].add(f, v * v);
    }
    // Σxy and #both over the (token, feature) pairs non-zero on both sides: a merge of two lists
    int[] xt = x.token();
    int[] xf = x.feature();
    float[] xa = x.activation();
    int[] yt = y.token();
    int i = 0;
    int j = 0;
    while (i < xt.length && j < yt.length) {
      long kx = (long) xt[i] * features + xf[i];
      long ky = (long) yt[j] * features + yf[j];
      if (kx < ky) {
        i++;
      } else if (ky < kx) {
        j++;
      } else {
        double xv = xa[i];
        double yv = ya[j];
        sums[Sum.XY.ordinal()].add(xf[i], xv * yv);
        if (xv > 0 && yv > 0) {
          bothFired[xf[i]]++;
        }
        i++;
        j++;
      }
    }
  }

  /** Adds {@code other}'s statistics (same number of features) to these. */
  public void merge(FeatureSums other) {
    positions += other.positions;
    for (int f = 0; f < features; f++) {
      nonZero[f] += other.nonZero[f];
      fired[f] += other.fired[f];
      bothFired[f] += other.bothFired[f];
      min[f] = Math.min(min[f], other.min[f]);
      max[f] = Math.max(max[f], other.max[f]);
    }
    for (int s = 0; s < sums.length; s++) {
      sums[s].merge(other.sums[s]);
    }
  }

  public int features() {
    return features;
  }

  /** Token positions added. */
  public long positions() {
    return positions;
  }

  public long nonZero(int f) {
    return nonZero[f];
  }

  public long fired(int f) {
    return fired[f];
  }

  public long bothFired(int f) {
    return bothFired[f];
  }

  /** Smallest non-zero code of feature f, or null when it never was non-zero. */
  public Double min(int f) {
    return nonZero[f] == 0 ? null : min[f];
  }

  /** Largest non-zero code of feature f, or null when it never was non-zero. */
  public Double max(int f) {
    return nonZero[f] == 0 ? null : max[f];
  }

  /** The limbs of one sum. */
  public Limbs sum(Sum s) {
    return sums[s.ordinal()];
  }
}
