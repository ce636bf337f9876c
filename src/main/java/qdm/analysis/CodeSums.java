package qdm.analysis;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import qdm.tables.Schemas;

/**
 * The {@code feature_sums} table computed in Spark from a {@code codes} table: the same statistics
 * the executors sum during the encode pass, by a sparse join instead (tokens x features is never
 * densified). It is how the analysis runs on codes alone (codes written by another tool, tests),
 * and an independent check of the executor's sums: both use the same exact limbs, so they agree to
 * the bit.
 *
 * <p>Per condition and feature, the per-side sums run over the non-zero codes; Σxy and the
 * both-fired count over the inner join with the reference's codes on (window_id, position,
 * feature): a pair with a zero on either side adds nothing.
 */
public final class CodeSums {
  private CodeSums() {}

  /**
   * @param codes the {@code codes} table: non-zero activations of every condition
   * @param nTokens token positions encoded per condition
   */
  public static Dataset<Row> compute(Dataset<Row> codes, long nTokens, AnalysisSettings s) {
    FeatureStats.checkTokens(nTokens);
    Dataset<Row> checked = Inputs.codes(codes, s);
    Column act = col("activation");
    List<Column> aggs =
        new ArrayList<>(
            List.of(
                count(lit(1)).as("non_zero"),
                count(when(act.gt(0), 1)).as("fired"),
                min(act).as("min"),
                max(act).as("max")));
    aggs.addAll(Arrays.asList(ExactSum.of(act, "sum_y")));
    aggs.addAll(Arrays.asList(ExactSum.of(act.multiply(act), "sum_yy")));
    aggs.addAll(Arrays.asList(ExactSum.of(when(act.gt(0), act).otherwise(0.0), "sum_y_pos")));
    Dataset<Row> sides =
        checked
            .groupBy("condition", "feature")
            .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0]));

    Dataset<Row> x =
        checked
            .filter(col("condition").equalTo(s.reference()))
            .select(col("window_id"), col("position"), col("feature"), act.as("x"));
    Dataset<Row> y =
        checked.select(
            col("condition"), col("window_id"), col("position"), col("feature"), act.as("y"));
    List<Column> crossAggs =
        new ArrayList<>(List.of(count(when(col("x").gt(0).and(col("y").gt(0)), 1)).as("both")));
    crossAggs.addAll(Arrays.asList(ExactSum.of(col("x").multiply(col("y")), "sum_xy")));
    // A shuffle hash join built on the reference side: sorting every condition's codes for a
    // sort-merge join costs more than hashing one condition's.
    Dataset<Row> cross =
        x.hint("shuffle_hash")
            .join(y, new String[] {"window_id", "position", "feature"})
            .groupBy("condition", "feature")
            .agg(crossAggs.get(0), crossAggs.subList(1, crossAggs.size()).toArray(new Column[0]));

    List<Column> out = new ArrayList<>();
    out.add(col("condition"));
    out.add(col("feature"));
    out.add(lit(nTokens).as("positions"));
    out.add(coalesce(col("non_zero"), lit(0L)).as("non_zero"));
    out.add(coalesce(col("fired"), lit(0L)).as("fired"));
    out.add(coalesce(col("both"), lit(0L)).as("both_fired"));
    out.add(col("min").cast("double").as("min"));
    out.add(col("max").cast("double").as("max"));
    for (String name : Schemas.FEATURE_SUM_NAMES) {
      for (String limb : ExactSum.columns(name)) {
        out.add(coalesce(col(limb), lit(0L)).as(limb));
      }
    }
    Dataset<Row> table =
        Conditions.table(codes.sparkSession(), s)
            .select("condition", "ordinal")
            .crossJoin(Features.all(codes.sparkSession(), s.dSae()))
            .join(sides, new String[] {"condition", "feature"}, "left")
            .join(cross, new String[] {"condition", "feature"}, "left");
    return Inputs.output(
        table.select(withOrdinal(out)), Schemas.FEATURE_SUMS_OF_ONE_SAE, "ordinal", "feature");
  }

  private static Column[] withOrdinal(List<Column> columns) {
    List<Column> all = new ArrayList<>(columns);
    all.add(col("ordinal"));
    return all.toArray(new Column[0]);
  }
}
