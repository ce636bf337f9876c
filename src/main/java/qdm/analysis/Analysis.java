package qdm.analysis;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import qdm.QdmException;
import qdm.tables.Schemas;

/**
 * The {@code analyze} stage (DESIGN.md): SAE codes and token NLLs in, the survival tables out. Pure
 * Spark SQL / MLlib, no model and no IO: the caller reads the inputs and writes the outputs.
 */
public final class Analysis {
  private Analysis() {}

  /**
   * Computes every analysis table from a {@code codes} table: its {@code feature_sums} first
   * ({@link CodeSums}), then {@link #fromSums}; the SAE fidelity columns stay null.
   *
   * @param codes the {@code codes} table (non-zero activations, every condition)
   */
  public static AnalysisTables run(
      SparkSession spark,
      Dataset<Row> codes,
      Dataset<Row> tokenNll,
      long nTokens,
      AnalysisSettings s) {
    if (codes.sparkSession() != spark) {
      throw new IllegalArgumentException("codes must belong to the given session");
    }
    Dataset<Row> sums;
    try {
      sums = CodeSums.compute(codes, nTokens, s).persist(StorageLevel.MEMORY_AND_DISK());
    } catch (RuntimeException e) {
      throw Inputs.userError(e);
    }
    return fromSums(
        spark,
        sums,
        tokenNll,
        Optional.empty(),
        Optional.empty(),
        StabilitySettings.OFF,
        nTokens,
        s);
  }

  /**
   * Computes every analysis table from the merged statistics of the encode pass. Runs Spark jobs
   * for the feature survival table (persisted), the input checks, the null run (when {@code
   * s.nullRun()} names one) and the predictor fits; the other tables stay lazy.
   *
   * @param spark the session the inputs belong to
   * @param sums the {@code feature_sums} rows of one SAE
   * @param tokenNll the {@code token_nll} table
   * @param fidelity the {@code sae_fidelity} rows of that SAE, if there are any
   * @param windows the per-window statistics of that SAE, for the stability checks
   * @param stability which stability checks run (all need {@code windows} but the thresholds)
   * @param nTokens token positions encoded per condition (the same windows for all)
   * @throws QdmException when a column is missing, a condition has no codes or the null run fails
   */
  public static AnalysisTables fromSums(
      SparkSession spark,
      Dataset<Row> sums,
      Dataset<Row> tokenNll,
      Optional<Dataset<Row>> fidelity,
      Optional<Stability.PerWindow> windows,
      StabilitySettings stability,
      long nTokens,
      AnalysisSettings s) {
    if (sums.sparkSession() != spark || tokenNll.sparkSession() != spark) {
      throw new IllegalArgumentException("the inputs must belong to the given session");
    }
    Inputs.require(sums, "feature_sums", Schemas.FEATURE_SUMS_OF_ONE_SAE.fieldNames());
    Dataset<Row> featureStats = FeatureStats.compute(sums, nTokens, s);
    Dataset<Row> featureSurvival = null;
    try {
      featureStats.persist(StorageLevel.MEMORY_AND_DISK());
      featureSurvival =
          FeatureSurvival.compute(sums, featureStats, nTokens, s)
              .persist(StorageLevel.MEMORY_AND_DISK());
      requireCodes(featureSurvival);
      if (s.nullRun().isPresent()) {
        NullRun.check(featureSurvival, s.nullRun().get(), NullRun.TOLERANCE);
      }
      SurvivalPredictor.Result predictor =
          SurvivalPredictor.compute(featureStats, featureSurvival, s);
      Stability.Result checks =
          windows.isPresent() && stability.any()
              ? Stability.compute(windows.get(), featureSurvival, s, stability)
              : new Stability.Result(
                  spark.createDataFrame(List.of(), qdm.tables.AnalysisSchemas.STABILITY),
                  List.of(),
                  spark.createDataFrame(List.of(), Stability.BOUNDS));
      return new AnalysisTables(
          featureStats,
          featureSurvival,
          ConditionSummary.compute(
              featureSurvival, tokenNll, fidelity, Optional.of(checks.bounds()), s),
          Quartiles.compute(featureStats, featureSurvival, s),
          Overlap.compute(featureSurvival, s),
          predictor.table(),
          predictor.roc(),
          checks.table(),
          checks.windows());
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
