package qdm.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import qdm.analysis.ConditionInfo;
import qdm.tables.Schemas;

/**
 * Synthetic {@code codes} and {@code token_nll} tables of any size, generated inside Spark from
 * {@code spark.range} and seeded hashes (deterministic, nothing held on the driver).
 *
 * <p>Every token fires {@code l0} distinct features {@code (base + j * 7919) mod d} (a prime
 * stride: distinct while d is not a multiple of 7919). Condition c (0 = reference) moves a fraction
 * {@code 0.01 c} of a token's slots to features the reference did not fire there, and scales the
 * rest by {@code 1 + noise}, uniform noise of relative size up to {@code 0.1 c^2 (f mod 10 + 1) /
 * 10}, so the conditions span survived, blurred and damaged features.
 */
final class SyntheticCodes {
  private static final long STRIDE = 7919;
  private static final double TWO_53 = 0x1p53;

  private final long tokens;
  private final int features;
  private final int l0;
  private final int windowLength;
  private final List<String> conditions;

  SyntheticCodes(long tokens, int features, int l0, int windowLength, int conditions) {
    if (2L * l0 >= features || features % STRIDE == 0) {
      throw new IllegalArgumentException(
          "need 2 * l0 < features, features not a multiple of " + STRIDE);
    }
    this.tokens = tokens;
    this.features = features;
    this.l0 = l0;
    this.windowLength = windowLength;
    this.conditions = new ArrayList<>();
    this.conditions.add("fp");
    for (int c = 1; c < conditions; c++) {
      this.conditions.add("c" + c);
    }
  }

  List<String> conditions() {
    return conditions;
  }

  /** Metadata of the conditions: the reference (method none), then rtn-like ones. */
  List<ConditionInfo> info() {
    List<ConditionInfo> info = new ArrayList<>();
    info.add(ConditionInfo.of("fp", "none"));
    for (int c = 1; c < conditions.size(); c++) {
      info.add(
          new ConditionInfo(
              conditions.get(c), "synthetic", OptionalInt.of(9 - c), OptionalDouble.empty()));
    }
    return info;
  }

  /** A uniform double in [0, 1) from a seeded hash of the columns. */
  private static Column uniform(long salt, Column... cols) {
    Column[] all = new Column[cols.length + 1];
    all[0] = lit(salt);
    System.arraycopy(cols, 0, all, 1, cols.length);
    return pmod(xxhash64(all), lit(1L << 53)).cast("double").divide(TWO_53);
  }

  Dataset<Row> codes(SparkSession spark) {
    long perCondition = tokens * l0;
    Column id = col("id");
    Column c = id.divide(perCondition).cast("long");
    Column rem = pmod(id, lit(perCondition));
    Column t = rem.divide(l0).cast("long");
    Column j = pmod(rem, lit((long) l0));
    Column base = pmod(xxhash64(lit(1L), t), lit((long) features));
    Column moved = uniform(2, t, j, c).lt(c.multiply(0.01));
    Column slot = when(moved, j.plus(l0)).otherwise(j);
    Column feature = pmod(base.plus(slot.multiply(STRIDE)), lit((long) features));
    Column u = uniform(3, t, j);
    Column x = lit(0.05).plus(u.multiply(u).multiply(5.0));
    Column sigma =
        c.multiply(c).multiply(0.1).multiply(pmod(feature, lit(10L)).plus(1)).divide(10.0);
    Column noise = uniform(4, t, j, c).minus(0.5).multiply(2.0);
    Column act = greatest(x.multiply(lit(1.0).plus(sigma.multiply(noise))), lit(1e-3));
    return spark
        .range(perCondition * conditions.size())
        .select(
            conditionName(c).as("condition"),
            t.divide(windowLength).cast("long").as("window_id"),
            pmod(t, lit((long) windowLength)).cast("int").as("position"),
            pmod(xxhash64(lit(5L), t), lit(50000L)).cast("int").as("token_id"),
            feature.cast("int").as("feature"),
            act.cast("float").as("activation"));
  }

  /** The name of condition number {@code c} (0-based). */
  private Column conditionName(Column c) {
    return element_at(lit(conditions.toArray(new String[0])), c.plus(1).cast("int"));
  }

  /** One chunk NLL per token position but the last of each window, per condition. */
  Dataset<Row> tokenNll(SparkSession spark) {
    Column id = col("id");
    Column c = id.divide(tokens).cast("long");
    Column t = pmod(id, lit(tokens));
    Column position = pmod(t, lit((long) windowLength));
    return spark
        .range(tokens * conditions.size())
        .filter(position.lt(windowLength - 1))
        .select(
            conditionName(c).as("condition"),
            lit(Schemas.CHUNK).as("kind"),
            t.divide(windowLength).cast("long").as("window_id"),
            position.cast("int").as("position"),
            lit(3.0).plus(uniform(6, t, c)).plus(c.multiply(0.05)).as("nll"));
  }
}
