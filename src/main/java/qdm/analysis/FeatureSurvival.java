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
import qdm.tables.AnalysisSchemas;

/**
 * The {@code feature_survival} table: per condition and feature, Pearson r between the reference's
 * and the condition's activations over all n token positions (docs/method.md §4), damage = 1 - r
 * and the class (section 6). The reference is compared with itself too, which is the FP null run.
 *
 * <p>Sparse all the way: tokens x features is never densified. Of the sufficient statistics, n
 * comes from {@code nTokens}; Sx, Sxx and Sy, Syy are per-side sums over the non-zero codes; Sxy is
 * summed over the inner join of the two sides on (window_id, position, feature). This is the full
 * outer join of the two sparse sides with its zero terms left out: a pair with a zero on either
 * side adds nothing to Sxy. All sums are {@link ExactSum}s, so the table is bit-identical across
 * re-runs and retries.
 */
public final class FeatureSurvival {
  private FeatureSurvival() {}

  /**
   * @param codes the {@code codes} table: non-zero activations of every condition
   * @param featureStats the {@link FeatureStats} table (for {@code active})
   * @param nTokens token positions encoded per condition
   */
  public static Dataset<Row> compute(
      Dataset<Row> codes, Dataset<Row> featureStats, long nTokens, AnalysisSettings s) {
    FeatureStats.checkTokens(nTokens);
    Dataset<Row> checked = Inputs.codes(codes, s);
    Column act = col("activation");

    // Per-side statistics of every condition (the reference's are the x side).
    List<Column> aggs =
        new ArrayList<>(
            List.of(
                count(lit(1)).as("non_zero"), count(when(act.gt(0), 1)).as("fired"),
                min(act).as("min"), max(act).as("max")));
    aggs.addAll(Arrays.asList(ExactSum.of(act, "s")));
    aggs.addAll(Arrays.asList(ExactSum.of(act.multiply(act), "ss")));
    Dataset<Row> sides =
        checked
            .groupBy("condition", "feature")
            .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0]))
            .select(
                col("condition"),
                col("feature"),
                col("non_zero"),
                col("fired"),
                col("min"),
                col("max"),
                ExactSum.value("s").as("s"),
                ExactSum.value("ss").as("ss"));
    Dataset<Row> xSide =
        sides
            .filter(col("condition").equalTo(s.reference()))
            .select(
                col("feature"),
                col("non_zero").as("nz_x"),
                col("min").as("min_x"),
                col("max").as("max_x"),
                col("s").as("sx"),
                col("ss").as("sxx"));
    Dataset<Row> ySide =
        sides.select(
            col("condition"),
            col("feature"),
            col("non_zero").as("nz_y"),
            col("fired").as("fired_y"),
            col("min").as("min_y"),
            col("max").as("max_y"),
            col("s").as("sy"),
            col("ss").as("syy"));

    // Sxy over the positions where both sides are non-zero.
    Dataset<Row> x =
        checked
            .filter(col("condition").equalTo(s.reference()))
            .select(col("window_id"), col("position"), col("feature"), act.as("x"));
    Dataset<Row> y =
        checked.select(
            col("condition"), col("window_id"), col("position"), col("feature"), act.as("y"));
    Column[] sxyAgg = ExactSum.of(col("x").multiply(col("y")), "sxy");
    // A shuffle hash join, built on the reference side: sorting every condition's codes for a
    // sort-merge join costs more than hashing one condition's.
    Dataset<Row> cross =
        x.hint("shuffle_hash")
            .join(y, new String[] {"window_id", "position", "feature"})
            .groupBy("condition", "feature")
            .agg(sxyAgg[0], sxyAgg[1], sxyAgg[2])
            .select(col("condition"), col("feature"), ExactSum.value("sxy").as("sxy"));

    Column n = lit((double) nTokens);
    Column nzX = coalesce(col("nz_x"), lit(0L));
    Column nzY = coalesce(col("nz_y"), lit(0L));
    Column constant =
        Pearson.constant(nzX, col("min_x"), col("max_x"), lit(nTokens))
            .or(Pearson.constant(nzY, col("min_y"), col("max_y"), lit(nTokens)));
    Column r =
        Pearson.r(
            n,
            coalesce(col("sx"), lit(0.0)),
            coalesce(col("sy"), lit(0.0)),
            coalesce(col("sxx"), lit(0.0)),
            coalesce(col("syy"), lit(0.0)),
            coalesce(col("sxy"), lit(0.0)),
            constant,
            lit(0.0));

    Dataset<Row> table =
        Conditions.table(codes.sparkSession(), s)
            .crossJoin(Features.all(codes.sparkSession(), s.dSae()))
            .join(featureStats.select("feature", "active"), "feature")
            .join(xSide, new String[] {"feature"}, "left")
            .join(ySide, new String[] {"condition", "feature"}, "left")
            .join(cross, new String[] {"condition", "feature"}, "left")
            .withColumn("pearson", r)
            .withColumn("damage", lit(1.0).minus(col("pearson")))
            .withColumn("class", Classes.of(col("pearson"), s))
            .withColumn("firing_rate", coalesce(col("fired_y"), lit(0L)).divide(n));
    return Inputs.output(table, AnalysisSchemas.FEATURE_SURVIVAL, "ordinal", "feature");
  }
}
