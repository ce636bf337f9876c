package qdm.spark;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import qdm.config.AuditConfig;
import qdm.report.Csv;
import qdm.report.ReportData;

/** Reads a run's published tables into the plain {@link ReportData} the report is drawn from. */
final class ReportInputs {
  private ReportInputs() {}

  static ReportData read(
      SparkSession spark, AuditConfig config, RunLayout layout, Map<String, Object> provenance) {
    List<ReportData.ConditionRow> conditions = new ArrayList<>();
    for (Row r : table(spark, layout, "conditions").collectAsList()) {
      conditions.add(
          new ReportData.ConditionRow(
              r.getAs("condition"),
              r.getAs("method"),
              r.getAs("bits"),
              r.getAs("sparsity"),
              r.getAs("ppl_chunked"),
              r.getAs("delta_ppl_pct"),
              r.getAs("ppl_sliding"),
              r.getAs("survived_pct"),
              r.getAs("blurred_pct"),
              r.getAs("damaged_pct"),
              r.getAs("mean_r"),
              r.getAs("median_r"),
              r.<Long>getAs("n_active")));
    }
    String predictor = config.analysis().predictorCondition();
    List<ReportData.QuartileRow> quartiles = new ArrayList<>();
    for (Row r :
        table(spark, layout, "quartiles")
            .where(col("condition").equalTo(predictor))
            .orderBy("statistic", "quartile")
            .collectAsList()) {
      quartiles.add(
          new ReportData.QuartileRow(
              r.getAs("statistic"),
              r.<Integer>getAs("quartile"),
              r.getAs("survived_pct"),
              r.<Long>getAs("n")));
    }
    List<ReportData.Roc> rocs = new ArrayList<>();
    if (layout.exists(layout.table("predictor_roc"))) {
      Map<String, Double> auc = new LinkedHashMap<>();
      for (Row r : table(spark, layout, "predictor").collectAsList()) {
        if (r.getAs("auc_mean") != null) {
          auc.put(r.getAs("predictor_set"), r.getAs("auc_mean"));
        }
      }
      Map<String, List<double[]>> points = new LinkedHashMap<>();
      for (Row r :
          table(spark, layout, "predictor_roc").orderBy("predictor_set", "point").collectAsList()) {
        points
            .computeIfAbsent(r.getAs("predictor_set"), k -> new ArrayList<>())
            .add(new double[] {r.getAs("fpr"), r.getAs("tpr")});
      }
      for (Map.Entry<String, List<double[]>> e : points.entrySet()) {
        double[] fpr = e.getValue().stream().mapToDouble(p -> p[0]).toArray();
        double[] tpr = e.getValue().stream().mapToDouble(p -> p[1]).toArray();
        rocs.add(
            new ReportData.Roc(e.getKey(), auc.getOrDefault(e.getKey(), Double.NaN), fpr, tpr));
      }
    }
    Dataset<Row> survival = table(spark, layout, "feature_survival").where(col("active"));
    List<ReportData.DamagePair> damage = new ArrayList<>();
    for (List<String> pair : config.analysis().overlap()) {
      List<Row> rows =
          survival
              .as("a")
              .join(survival.as("b"), col("a.feature").equalTo(col("b.feature")))
              .where(
                  col("a.condition")
                      .equalTo(pair.get(0))
                      .and(col("b.condition").equalTo(pair.get(1))))
              .select(col("a.damage"), col("b.damage"))
              .collectAsList();
      damage.add(
          new ReportData.DamagePair(
              pair.get(0),
              pair.get(1),
              rows.stream().mapToDouble(r -> r.getDouble(0)).toArray(),
              rows.stream().mapToDouble(r -> r.getDouble(1)).toArray()));
    }
    Map<String, double[]> pearson = new LinkedHashMap<>();
    for (ReportData.ConditionRow c : conditions) {
      if (c.condition().equals(config.reference().name()) || c.condition().endsWith("-null")) {
        continue;
      }
      pearson.put(
          c.condition(),
          survival
              .where(col("condition").equalTo(c.condition()))
              .select("pearson")
              .collectAsList()
              .stream()
              .mapToDouble(r -> r.getDouble(0))
              .toArray());
    }
    Map<String, ReportData.Table> tables = new LinkedHashMap<>();
    Dataset<Row> conditionTable = table(spark, layout, "conditions");
    tables.put(
        qdm.report.HtmlReport.BEHAVIOUR,
        verbatim(
            conditionTable.select(
                col("condition"),
                col("delta_ppl_pct").as("Δppl %"),
                col("kl_mean").as("KL mean"),
                col("kl_median").as("KL median"),
                col("kl_p99").as("KL p99"),
                col("kl_max").as("KL max"),
                col("delta_p_mean").as("Δp mean"),
                col("delta_p_rms").as("Δp RMS"),
                col("top1_same_pct").as("top-1 same %"),
                col("survived_pct").as("survived %"))));
    tables.put(
        qdm.report.HtmlReport.FIDELITY,
        verbatim(
            conditionTable.select(
                "condition",
                "sae_fvu",
                "sae_cos",
                "sae_l0",
                "ce_loss_score",
                "n_active",
                "n_active_c",
                "n_new_active",
                "n_dead")));
    tables.put("Cross-method overlap", verbatim(table(spark, layout, "overlap")));
    tables.put("Survival predictor", verbatim(table(spark, layout, "predictor")));
    if (layout.exists(layout.table("matched_search"))) {
      tables.put(
          "Matched-perplexity search",
          verbatim(table(spark, layout, "matched_search").orderBy("condition", "step")));
    }
    return new ReportData(
        config.runName(),
        conditions,
        predictor,
        quartiles,
        rocs,
        damage,
        pearson,
        tables,
        config.text(),
        provenance);
  }

  private static Dataset<Row> table(SparkSession spark, RunLayout layout, String name) {
    return spark.read().parquet(layout.table(name).toString());
  }

  private static ReportData.Table verbatim(Dataset<Row> d) {
    List<List<String>> rows = new ArrayList<>();
    for (Row r : d.collectAsList()) {
      List<String> cells = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) {
        Object v = r.get(i);
        cells.add(
            v instanceof Double x ? String.format(java.util.Locale.ROOT, "%.4g", x) : Csv.cell(v));
      }
      rows.add(cells);
    }
    return new ReportData.Table(List.of(d.schema().fieldNames()), rows);
  }
}
