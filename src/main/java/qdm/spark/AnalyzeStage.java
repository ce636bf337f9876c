package qdm.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import qdm.analysis.Analysis;
import qdm.analysis.AnalysisSettings;
import qdm.analysis.AnalysisTables;
import qdm.analysis.ConditionInfo;
import qdm.analysis.ConditionPair;
import qdm.condition.Condition;
import qdm.condition.Provenance;
import qdm.config.AuditConfig;
import qdm.tables.Schemas;

/**
 * Stage 3: the IO around {@link Analysis}: reads {@code feature_sums}, {@code token_nll} and {@code
 * sae_fidelity} (the encode pass's merged statistics; {@code codes} is not read), runs the pure
 * analysis, and publishes each output table atomically.
 */
public final class AnalyzeStage {
  private AnalyzeStage() {}

  /** The analysis settings of a config (conditions in encode order, with their sparsity). */
  static AnalysisSettings settings(
      AuditConfig config, List<Condition> conditions, int dSae, Map<String, Double> sparsities) {
    var a = config.analysis();
    List<ConditionInfo> infos = new ArrayList<>();
    qdm.model.ModelFiles reference = config.modelFiles();
    for (Condition c : conditions) {
      Provenance p = c.provenance(reference);
      OptionalDouble sparsity =
          sparsities.containsKey(c.name())
              ? OptionalDouble.of(sparsities.get(c.name()))
              : OptionalDouble.empty();
      infos.add(
          new ConditionInfo(c.name(), p.method(), p.bits(), sparsity, Optional.of(p.source())));
    }
    List<ConditionPair> pairs =
        a.overlap().stream().map(p -> new ConditionPair(p.get(0), p.get(1))).toList();
    Optional<String> nullRun =
        a.nullRun() ? Optional.of(AuditJob.nullRun(config).name()) : Optional.empty();
    return new AnalysisSettings(
        config.reference().name(),
        dSae,
        a.activeFiringRate(),
        a.survivedAbove(),
        a.damagedBelow(),
        pairs,
        a.predictorCondition().isEmpty() ? Optional.empty() : Optional.of(a.predictorCondition()),
        a.folds(),
        a.seed(),
        nullRun,
        infos);
  }

  /**
   * Runs the analysis of every SAE and writes its tables, each SAE's rows tagged with its name;
   * returns facts for the manifest.
   */
  static Map<String, Object> run(
      SparkSession spark,
      AuditConfig config,
      RunLayout layout,
      List<Condition> conditions,
      Map<String, Double> sparsities,
      Map<String, Object> tokens,
      List<Preflight.NamedSae> saes) {
    Dataset<Row> sums =
        spark.read().schema(Schemas.FEATURE_SUMS).parquet(layout.table("feature_sums").toString());
    Dataset<Row> nll =
        spark.read().schema(Schemas.TOKEN_NLL).parquet(layout.table("token_nll").toString());
    Dataset<Row> fidelity =
        spark.read().schema(Schemas.SAE_FIDELITY).parquet(layout.table("sae_fidelity").toString());
    long nTokens = ((Number) tokens.get("chunk_tokens")).longValue();
    Dataset<Row> windowSums =
        spark.read().schema(Schemas.WINDOW_SUMS).parquet(layout.table("window_sums").toString());
    List<Long> windowIds =
        spark
            .read()
            .schema(Schemas.WINDOWS)
            .parquet(layout.table("windows").toString())
            .where(col("kind").equalTo(Schemas.CHUNK))
            .select("window_id")
            .orderBy("window_id")
            .as(org.apache.spark.sql.Encoders.LONG())
            .collectAsList();
    int length = Math.toIntExact(nTokens / windowIds.size());
    Map<String, Dataset<Row>> published = new LinkedHashMap<>();
    List<AnalysisTables> all = new ArrayList<>();
    try {
      for (Preflight.NamedSae sae : saes) {
        Column mine = col("sae").equalTo(sae.name());
        AnalysisTables tables =
            Analysis.fromSums(
                spark,
                sums.filter(mine).drop("sae"),
                nll,
                Optional.of(fidelity.filter(mine).drop("sae")),
                Optional.of(
                    new qdm.analysis.Stability.PerWindow(
                        windowSums.filter(mine).drop("sae"), windowIds, length)),
                config.analysis().stability(),
                nTokens,
                settings(config, conditions, sae.config().dSae(), sparsities));
        all.add(tables);
        for (Map.Entry<String, Dataset<Row>> t : tables.byName().entrySet()) {
          Dataset<Row> tagged = t.getValue().select(tagged(sae.name(), t.getValue()));
          published.merge(t.getKey(), tagged, Dataset::unionAll);
        }
      }
      Map<String, Object> facts = new LinkedHashMap<>();
      published.put(
          "stability_windows",
          spark.createDataFrame(all.get(0).stabilityWindows(), qdm.analysis.Stability.WINDOWS));
      for (Map.Entry<String, Dataset<Row>> t : published.entrySet()) {
        Path scratch = layout.scratch(t.getKey());
        t.getValue().coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(scratch.toString());
        layout.commit(scratch, layout.table(t.getKey()));
        facts.put(
            t.getKey() + "_rows",
            spark.read().parquet(layout.table(t.getKey()).toString()).count());
      }
      return facts;
    } finally {
      all.forEach(AnalysisTables::unpersist);
    }
  }

  /** {@code sae} = the SAE's name, then the table's own columns. */
  private static Column[] tagged(String sae, Dataset<Row> table) {
    List<Column> cols = new ArrayList<>();
    cols.add(lit(sae).as("sae"));
    for (String c : table.columns()) {
      cols.add(col(c));
    }
    return cols.toArray(new Column[0]);
  }
}
