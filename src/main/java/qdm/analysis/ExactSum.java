package qdm.analysis;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;

import org.apache.spark.sql.Column;

/**
 * Sums of doubles that do not depend on the order of addition, so a re-run or a retried task gives
 * bit-identical statistics. Spark merges partial aggregates in whatever order shuffle blocks
 * arrive, and floating-point addition is not associative; these sums are integer sums instead.
 *
 * <p>Each term t is split exactly into three fixed-point limbs, {@code t = a * 2^12 + b * 2^-24 + c
 * * 2^-60} with {@code a = floor(t / 2^12)} and {@code b, c} in [0, 2^36): every step is exact in
 * binary64 except the last floor, which drops less than 2^-60 per term. The limbs are summed as
 * longs (exact, order-free) and recombined into one double. Valid while |t| < 2^48 and a group has
 * fewer than 2^27 terms (every limb sum then stays below 2^63); {@link FeatureSurvival} enforces
 * both for activation products.
 */
final class ExactSum {
  /** Largest |term| the limbs hold without overflow. */
  static final double MAX_TERM = 0x1p48;

  /** Most terms per group. */
  static final long MAX_TERMS = 1L << 27;

  private static final double HIGH = 0x1p12;
  private static final double MID = 0x1p-24;
  private static final double LOW = 0x1p-60;

  private ExactSum() {}

  /** Aggregates {@code name_a, name_b, name_c}: the limb sums of {@code term} (a double). */
  static Column[] of(Column term, String name) {
    Column t = term.cast("double");
    Column a = floor(t.divide(HIGH));
    Column r1 = t.minus(a.multiply(HIGH)); // in [0, 2^12), exact
    Column s = r1.multiply(0x1p24); // in [0, 2^36), exact
    Column b = floor(s);
    Column c = floor(s.minus(b).multiply(0x1p36)); // the one rounding: < 2^-60 per term
    return new Column[] {sum(a).as(name + "_a"), sum(b).as(name + "_b"), sum(c).as(name + "_c")};
  }

  /** The double value of the limb sums aggregated by {@link #of} (0 for a missing group). */
  static Column value(String name) {
    Column a = coalesce(col(name + "_a"), lit(0L)).cast("double");
    Column b = coalesce(col(name + "_b"), lit(0L)).cast("double");
    Column c = coalesce(col(name + "_c"), lit(0L)).cast("double");
    return a.multiply(HIGH).plus(b.multiply(MID).plus(c.multiply(LOW)));
  }

  /** Column names {@link #of} creates, for dropping them after {@link #value}. */
  static String[] columns(String name) {
    return new String[] {name + "_a", name + "_b", name + "_c"};
  }
}
