package qdm.analysis;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;

/**
 * Pearson r from float64 sufficient statistics (docs/method.md §4): {@code r = (n Sxy - Sx Sy) /
 * sqrt(max((n Sxx - Sx^2)(n Syy - Sy^2), 1e-12))}, clipped to [-1, 1]. A side that is constant over
 * all n observations gets {@code whenConstant}: the formula is 0 / sqrt(1e-12) there only in exact
 * arithmetic, and rounding in the numerator of a constant non-zero side can leave a large spurious
 * r, so constancy is decided from exact facts (count, min, max) and never from the rounded
 * variance.
 */
final class Pearson {
  private Pearson() {}

  /**
   * @param n number of observations (zeros included), as a double column
   * @param constant true where either side is constant
   * @param whenConstant the value for a constant side (0 for features, null for overlap)
   */
  static Column r(
      Column n,
      Column sx,
      Column sy,
      Column sxx,
      Column syy,
      Column sxy,
      Column constant,
      Column whenConstant) {
    Column num = n.multiply(sxy).minus(sx.multiply(sy));
    Column varX = n.multiply(sxx).minus(sx.multiply(sx));
    Column varY = n.multiply(syy).minus(sy.multiply(sy));
    Column den = sqrt(greatest(varX.multiply(varY), lit(1e-12)));
    Column r = least(greatest(num.divide(den), lit(-1.0)), lit(1.0));
    return when(constant, whenConstant).otherwise(r);
  }

  /** {@link #r}'s formula on plain doubles (for sides known not to be constant). */
  static double r(double n, double sx, double sy, double sxx, double syy, double sxy) {
    double num = n * sxy - sx * sy;
    double varX = n * sxx - sx * sx;
    double varY = n * syy - sy * sy;
    double den = Math.sqrt(Math.max(varX * varY, 1e-12));
    return Math.min(Math.max(num / den, -1.0), 1.0);
  }

  /**
   * Whether a variable observed as {@code nonZero} non-zero values in [min, max] over n positions
   * (the rest zeros) is constant.
   */
  static Column constant(Column nonZero, Column min, Column max, Column n) {
    return nonZero.equalTo(0).or(nonZero.equalTo(n).and(min.equalTo(max)));
  }

  /**
   * Aggregates for the Pearson r of two fully observed columns (no implicit zeros): exact sums
   * named {@code prefix_x, _y, _xx, _yy, _xy} and the min/max of each side.
   */
  static List<Column> sums(Column x, Column y, String prefix) {
    List<Column> aggs = new ArrayList<>();
    aggs.addAll(Arrays.asList(ExactSum.of(x, prefix + "_x")));
    aggs.addAll(Arrays.asList(ExactSum.of(y, prefix + "_y")));
    aggs.addAll(Arrays.asList(ExactSum.of(x.multiply(x), prefix + "_xx")));
    aggs.addAll(Arrays.asList(ExactSum.of(y.multiply(y), prefix + "_yy")));
    aggs.addAll(Arrays.asList(ExactSum.of(x.multiply(y), prefix + "_xy")));
    aggs.add(min(x).as(prefix + "_min_x"));
    aggs.add(max(x).as(prefix + "_max_x"));
    aggs.add(min(y).as(prefix + "_min_y"));
    aggs.add(max(y).as(prefix + "_max_y"));
    return aggs;
  }

  /** r from the aggregates of {@link #sums} over {@code n} rows; null if a side is constant. */
  static Column fromSums(String prefix, Column n) {
    Column constant =
        col(prefix + "_min_x")
            .equalTo(col(prefix + "_max_x"))
            .or(col(prefix + "_min_y").equalTo(col(prefix + "_max_y")));
    return r(
        n.cast("double"),
        ExactSum.value(prefix + "_x"),
        ExactSum.value(prefix + "_y"),
        ExactSum.value(prefix + "_xx"),
        ExactSum.value(prefix + "_yy"),
        ExactSum.value(prefix + "_xy"),
        constant,
        lit(null));
  }
}
