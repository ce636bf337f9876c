package qdm.analysis;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import qdm.tables.AnalysisSchemas;

/**
 * The {@code feature_stats} table: per SAE feature, the reference run's firing rate, mean
 * activation over all positions, maximum, mean when firing, and whether it is active
 * (docs/method.md §5). Every feature 0..d_sae-1 has a row; one that never fires has zeros. It reads
 * the reference's row of {@code feature_sums}.
 */
public final class FeatureStats {
  private FeatureStats() {}

  /**
   * @param sums the {@code feature_sums} table (any conditions; only the reference's rows, where y
   *     is the reference's own code, are used)
   * @param nTokens token positions encoded per condition
   */
  public static Dataset<Row> compute(Dataset<Row> sums, long nTokens, AnalysisSettings s) {
    checkTokens(nTokens);
    double n = nTokens;
    Column fired = coalesce(col("fired"), lit(0L));
    Column nonZero = coalesce(col("non_zero"), lit(0L));
    // The maximum over all n positions: zeros count unless every position is non-zero.
    Column maxAct =
        when(nonZero.equalTo(0), lit(0.0))
            .when(nonZero.lt(nTokens), greatest(col("max"), lit(0.0)))
            .otherwise(col("max"));
    Dataset<Row> reference = sums.filter(col("condition").equalTo(s.reference())).drop("condition");
    Dataset<Row> stats =
        Features.all(sums.sparkSession(), s.dSae())
            .join(reference, new String[] {"feature"}, "left")
            .select(
                col("feature"),
                fired.divide(n).as("firing_rate"),
                ExactSum.value("sum_y").divide(n).as("mean_act"),
                maxAct.as("max_act"),
                when(fired.gt(0), ExactSum.value("sum_y_pos").divide(fired))
                    .otherwise(0.0)
                    .as("mean_when_active"),
                fired.divide(n).gt(s.activeFiringRate()).as("active"));
    return Inputs.output(stats, AnalysisSchemas.FEATURE_STATS, "feature");
  }

  static void checkTokens(long nTokens) {
    if (nTokens <= 0 || nTokens >= ExactSum.MAX_TERMS) {
      throw new qdm.QdmException(
          "n_tokens must be in [1, "
              + ExactSum.MAX_TERMS
              + ") token positions per condition, got "
              + nTokens);
    }
  }
}
