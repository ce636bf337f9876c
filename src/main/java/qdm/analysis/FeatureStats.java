package qdm.analysis;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import qdm.tables.AnalysisSchemas;

/**
 * The {@code feature_stats} table: per SAE feature, the reference run's firing rate, mean
 * activation over all positions, maximum, mean when firing, and whether it is active
 * (docs/method.md §5). Every feature 0..d_sae-1 has a row; one that never fires has zeros. Only the
 * reference's non-zero codes are read: zeros enter through {@code nTokens}.
 */
public final class FeatureStats {
  private FeatureStats() {}

  /**
   * @param codes the {@code codes} table (any conditions; only the reference's rows are used)
   * @param nTokens token positions encoded per condition
   */
  public static Dataset<Row> compute(Dataset<Row> codes, long nTokens, AnalysisSettings s) {
    checkTokens(nTokens);
    Column act = col("activation");
    List<Column> aggs =
        new ArrayList<>(
            List.of(
                count(when(act.gt(0), 1)).as("fire_count"),
                count(lit(1)).as("non_zero"),
                max(act).as("max_non_zero")));
    aggs.addAll(Arrays.asList(ExactSum.of(act, "sum_x")));
    aggs.addAll(Arrays.asList(ExactSum.of(when(act.gt(0), act).otherwise(0.0), "sum_fired")));
    Dataset<Row> perFeature =
        Inputs.codes(codes, s)
            .filter(col("condition").equalTo(s.reference()))
            .groupBy("feature")
            .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0]));

    double n = nTokens;
    Column fired = coalesce(col("fire_count"), lit(0L));
    Column nonZero = coalesce(col("non_zero"), lit(0L));
    // The maximum over all n positions: zeros count unless every position is non-zero.
    Column maxAct =
        when(nonZero.equalTo(0), lit(0.0))
            .when(nonZero.lt(nTokens), greatest(col("max_non_zero"), lit(0.0)))
            .otherwise(col("max_non_zero"));
    Dataset<Row> stats =
        Features.all(codes.sparkSession(), s.dSae())
            .join(perFeature, "feature", "left")
            .select(
                col("feature"),
                fired.divide(n).as("firing_rate"),
                ExactSum.value("sum_x").divide(n).as("mean_act"),
                maxAct.as("max_act"),
                when(fired.gt(0), ExactSum.value("sum_fired").divide(fired))
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
