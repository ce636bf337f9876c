package qdm.analysis;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The tables of the {@code analyze} stage (schemas in {@code qdm.tables.AnalysisSchemas}), ready to
 * be written. {@code featureStats} and {@code featureSurvival} are persisted (small: one row per
 * feature, and per condition and feature) so writing every table computes the expensive join once;
 * {@link #unpersist()} releases them. {@code stabilityWindows} are the rows of {@code
 * stability_windows} (the windows of each subset: the same for every SAE, so not per table).
 */
public record AnalysisTables(
    Dataset<Row> featureStats,
    Dataset<Row> featureSurvival,
    Dataset<Row> conditions,
    Dataset<Row> quartiles,
    Dataset<Row> overlap,
    Dataset<Row> predictor,
    Dataset<Row> predictorRoc,
    Dataset<Row> stability,
    java.util.List<Row> stabilityWindows) {

  public AnalysisTables {
    stabilityWindows = java.util.List.copyOf(stabilityWindows);
  }

  /** The names {@link #byName()} uses, in its order. */
  public static final java.util.List<String> NAMES =
      java.util.List.of(
          "feature_stats",
          "feature_survival",
          "conditions",
          "quartiles",
          "overlap",
          "predictor",
          "predictor_roc",
          "stability");

  /** Table name (as in DESIGN.md's outputs) to table, in a fixed order. */
  public Map<String, Dataset<Row>> byName() {
    Map<String, Dataset<Row>> m = new LinkedHashMap<>();
    m.put("feature_stats", featureStats);
    m.put("feature_survival", featureSurvival);
    m.put("conditions", conditions);
    m.put("quartiles", quartiles);
    m.put("overlap", overlap);
    m.put("predictor", predictor);
    m.put("predictor_roc", predictorRoc);
    m.put("stability", stability);
    return m;
  }

  /** Releases the persisted intermediate tables. */
  public void unpersist() {
    featureStats.unpersist();
    featureSurvival.unpersist();
  }
}
