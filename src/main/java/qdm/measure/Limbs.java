package qdm.measure;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Order-free float64 sums for the executor: a row of slots, each holding the exact fixed-point
 * limbs of the terms added to it, so partial sums from any tasks, merged in any order, give the
 * same bits.
 *
 * <p>The split is the one the analysis uses in Spark SQL ({@code qdm.analysis.ExactSum}): term
 * {@code t = a 2^12 + b 2^-24 + c 2^-60} with {@code a = floor(t / 2^12)} and {@code b, c} in [0,
 * 2^36), exact except for the last floor (under 2^-60 per term). Both halves must stay in step: a
 * table summed here and the same terms summed by Spark SQL are bit-identical. Valid while |t| &lt;
 * 2^48 and a slot has fewer than 2^27 terms.
 */
public final class Limbs implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final double HIGH = 0x1p12;
  private static final double MID = 0x1p-24;
  private static final double LOW = 0x1p-60;

  private final long[] a;
  private final long[] b;
  private final long[] c;

  public Limbs(int slots) {
    a = new long[slots];
    b = new long[slots];
    c = new long[slots];
  }

  /** Number of slots. */
  public int size() {
    return a.length;
  }

  /** Adds {@code t} to slot {@code i}. */
  public void add(int i, double t) {
    double hi = Math.floor(t / HIGH);
    double s = (t - hi * HIGH) * 0x1p24;
    double mid = Math.floor(s);
    a[i] += (long) hi;
    b[i] += (long) mid;
    c[i] += (long) Math.floor((s - mid) * 0x1p36);
  }

  /** Adds every slot of {@code other} (same size) to this one. */
  public void merge(Limbs other) {
    for (int i = 0; i < a.length; i++) {
      a[i] += other.a[i];
      b[i] += other.b[i];
      c[i] += other.c[i];
    }
  }

  /** The sum in slot {@code i}, recombined as the analysis recombines its limbs. */
  public double value(int i) {
    return value(a[i], b[i], c[i]);
  }

  /** The double of three limb sums (from a table that keeps them), recombined as above. */
  public static double value(long a, long b, long c) {
    return (double) a * HIGH + ((double) b * MID + (double) c * LOW);
  }

  /** The three limbs of slot {@code i} (for tables that keep them). */
  public long[] limbs(int i) {
    return new long[] {a[i], b[i], c[i]};
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Limbs l
        && Arrays.equals(a, l.a)
        && Arrays.equals(b, l.b)
        && Arrays.equals(c, l.c);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(a) * 31 + Arrays.hashCode(b) * 17 + Arrays.hashCode(c);
  }
}
