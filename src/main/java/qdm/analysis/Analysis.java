package qdm.analysis;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import qdm.QdmException;

/**
 * The {@code analyze} stage (DESIGN.md): SAE codes and token NLLs in, the survival tables out. Pure
 * Spark SQL / MLlib, no model and no IO: the caller reads the inputs and writes the outputs.
 */
public final class Analysis {
  private Analysis() {}

  /**
   * Computes every analysis table. Runs Spark jobs for the feature survival table (persisted), the
   * input checks, the null run (when {@code s.nullRun()} names one) and the predictor fits; the
   * other tables stay lazy.
   *
   * @param spark the session the inputs belong to
   * @param codes the {@code codes} table (non-zero activations, every condition)
   * @param tokenNll the {@code token_nll} table
   * @param nTokens token positions encoded per condition (the same windows for all)
   * @throws QdmException when a column is missing, a codes row is out of range, a condition has no
   *     codes or the null run fails
   */
  public static AnalysisTables run(
      SparkSession spark,
      Dataset<Row> codes,
      Dataset<Row> tokenNll,
      long nTokens,
      AnalysisSettings s) {
    if (codes.sparkSession() != spark || tokenNll.sparkSession() != spark) {
      throw new IllegalArgumentException("codes and token_nll must belong to the given session");
    }
    Dataset<Row> featureStats = FeatureStats.compute(codes, nTokens, s);
    Dataset<Row> featureSurvival = null;
    try {
      featureStats.persist(StorageLevel.MEMORY_AND_DISK());
      featureSurvival =
          FeatureSurvival.compute(codes, featureStats, nTokens, s)
              .persist(StorageLevel.MEMORY_AND_DISK());
      requireCodes(featureSurvival);
      if (s.nullRun().isPresent()) {
        NullRun.check(featureSurvival, s.nullRun().get(), NullRun.TOLERANCE);
      }
      SurvivalPredictor.Result predictor =
          SurvivalPredictor.compute(featureStats, featureSurvival, s);
      return new AnalysisTables(
          featureStats,
          featureSurvival,
          ConditionSummary.compute(featureSurvival, tokenNll, s),
          Quartiles.compute(featureStats, featureSurvival, s),
          Overlap.compute(featureSurvival, s),
          predictor.table(),
          predictor.roc());
    } catch (RuntimeException e) {
      featureStats.unpersist();
      if (featureSurvival != null) {
        featureSurvival.unpersist();
      }
      throw Inputs.userError(e);
    }
  }

  /** Fails for a condition without a single positive activation: it was not encoded. */
  private static void requireCodes(Dataset<Row> featureSurvival) {
    List<String> silent =
        featureSurvival
            .groupBy("condition")
            .agg(sum("firing_rate").as("total"))
            .filter(col("total").equalTo(0.0))
            .select("condition")
            .as(Encoders.STRING())
            .collectAsList();
    if (!silent.isEmpty()) {
      throw new QdmException(
          "codes: no positive activation at all for condition(s) "
              + silent.stream().sorted().collect(Collectors.joining(", "))
              + "; was the condition encoded?");
    }
  }
}
