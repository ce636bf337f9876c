package qdm.analysis;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import qdm.tables.AnalysisSchemas;

/**
 * The {@code feature_survival} table: per condition and feature, Pearson r between the reference's
 * and the condition's activations over all n token positions (docs/method.md §4), damage = 1 - r
 * and the class (section 6). The reference is compared with itself too, which is the FP null run.
 *
 * <p>It starts from the sufficient statistics of {@code feature_sums} (summed by the executors in
 * the encode pass, or from codes by {@link CodeSums}): n, Σx, Σy, Σx², Σy², Σxy and the firing
 * counts. Besides Pearson: {@code cosine} = Σxy / √(Σx² Σy²) (0 when either side never is
 * non-zero), {@code firing_rate_c} = #(y &gt; 0) / n and {@code firing_jaccard} = #(x &gt; 0 ∧ y
 * &gt; 0) / #(x &gt; 0 ∨ y &gt; 0) (1 when neither fires). The sums are exact limbs, so the table
 * is bit-identical across re-runs, retries and partitionings.
 */
public final class FeatureSurvival {
  private FeatureSurvival() {}

  /**
   * @param sums the {@code feature_sums} table (every condition and feature)
   * @param featureStats the {@link FeatureStats} table (for {@code active})
   * @param nTokens token positions encoded per condition
   */
  public static Dataset<Row> compute(
      Dataset<Row> sums, Dataset<Row> featureStats, long nTokens, AnalysisSettings s) {
    FeatureStats.checkTokens(nTokens);
    Dataset<Row> xSide =
        sums.filter(col("condition").equalTo(s.reference()))
            .select(
                col("feature"),
                col("non_zero").as("nz_x"),
                col("fired").as("fired_x"),
                col("min").as("min_x"),
                col("max").as("max_x"),
                ExactSum.value("sum_y").as("sx"),
                ExactSum.value("sum_yy").as("sxx"));
    Dataset<Row> ySide =
        sums.select(
            col("condition"),
            col("feature"),
            col("non_zero").as("nz_y"),
            col("fired").as("fired_y"),
            col("both_fired").as("both"),
            col("min").as("min_y"),
            col("max").as("max_y"),
            ExactSum.value("sum_y").as("sy"),
            ExactSum.value("sum_yy").as("syy"),
            ExactSum.value("sum_xy").as("sxy"));

    Column n = lit((double) nTokens);
    Column nzX = coalesce(col("nz_x"), lit(0L));
    Column nzY = coalesce(col("nz_y"), lit(0L));
    Column constant =
        Pearson.constant(nzX, col("min_x"), col("max_x"), lit(nTokens))
            .or(Pearson.constant(nzY, col("min_y"), col("max_y"), lit(nTokens)));
    Column sxx = coalesce(col("sxx"), lit(0.0));
    Column syy = coalesce(col("syy"), lit(0.0));
    Column sxy = coalesce(col("sxy"), lit(0.0));
    Column r =
        Pearson.r(
            n,
            coalesce(col("sx"), lit(0.0)),
            coalesce(col("sy"), lit(0.0)),
            sxx,
            syy,
            sxy,
            constant,
            lit(0.0));
    Column firedX = coalesce(col("fired_x"), lit(0L));
    Column firedY = coalesce(col("fired_y"), lit(0L));
    Column both = coalesce(col("both"), lit(0L));
    Column either = firedX.plus(firedY).minus(both);

    Dataset<Row> table =
        Conditions.table(sums.sparkSession(), s)
            .crossJoin(Features.all(sums.sparkSession(), s.dSae()))
            .join(featureStats.select("feature", "active"), "feature")
            .join(xSide, new String[] {"feature"}, "left")
            .join(ySide, new String[] {"condition", "feature"}, "left")
            .withColumn("pearson", r)
            .withColumn("damage", lit(1.0).minus(col("pearson")))
            .withColumn("class", Classes.of(col("pearson"), s))
            .withColumn("firing_rate", firedY.divide(n))
            .withColumn(
                "cosine",
                when(nzX.equalTo(0).or(nzY.equalTo(0)), lit(0.0))
                    .otherwise(sxy.divide(sqrt(sxx.multiply(syy)))))
            .withColumn("firing_rate_c", firedY.divide(n))
            .withColumn(
                "firing_jaccard",
                when(either.equalTo(0), lit(1.0)).otherwise(both.divide(either.cast("double"))));
    return Inputs.output(table, AnalysisSchemas.FEATURE_SURVIVAL, "ordinal", "feature");
  }
}
