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

  /**
   * The report's data. Its detail sections show the first SAE ({@code saes.get(0)}); with several
   * SAEs a survival table over SAE and condition comes first.
   */
  static ReportData read(
      SparkSession spark,
      AuditConfig config,
      RunLayout layout,
      Map<String, Object> provenance,
      List<String> saes) {
    String primary = saes.get(0);
    java.util.function.Function<String, Dataset<Row>> table =
        name -> {
          Dataset<Row> t = table(spark, layout, name);
          return java.util.Arrays.asList(t.columns()).contains("sae")
              ? t.where(col("sae").equalTo(primary)).drop("sae")
              : t;
        };
    List<ReportData.ConditionRow> conditions = new ArrayList<>();
    for (Row r : table.apply("conditions").collectAsList()) {
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
              r.<Long>getAs("n_active"),
              r.getAs("survived_pct_lo"),
              r.getAs("survived_pct_hi")));
    }
    String predictor = config.analysis().predictorCondition();
    List<ReportData.QuartileRow> quartiles = new ArrayList<>();
    for (Row r :
        table
            .apply("quartiles")
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
      for (Row r : table.apply("predictor").collectAsList()) {
        if (r.getAs("auc_mean") != null) {
          auc.put(r.getAs("predictor_set"), r.getAs("auc_mean"));
        }
      }
      Map<String, List<double[]>> points = new LinkedHashMap<>();
      for (Row r : table.apply("predictor_roc").orderBy("predictor_set", "point").collectAsList()) {
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
    Dataset<Row> survival = table.apply("feature_survival").where(col("active"));
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
    if (saes.size() > 1) {
      tables.put(qdm.report.HtmlReport.BY_SAE, bySae(table(spark, layout, "conditions"), saes));
    }
    Dataset<Row> conditionTable = table.apply("conditions");
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
    if (layout.exists(layout.table("stability"))) {
      stability(table.apply("stability"), conditionTable, tables);
    }
    tables.put("Cross-method overlap", verbatim(table.apply("overlap")));
    tables.put("Survival predictor", verbatim(table.apply("predictor")));
    if (layout.exists(layout.table("matched_search"))) {
      tables.put(
          "Matched-perplexity search",
          verbatim(table.apply("matched_search").orderBy("condition", "step")));
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

  /**
   * The stability section: each condition's bootstrap interval and verdict (with the rule it
   * fails), the budget and subset rows, and the threshold grid.
   */
  private static void stability(
      Dataset<Row> stability, Dataset<Row> conditions, Map<String, ReportData.Table> tables) {
    List<Row> rows = stability.collectAsList();
    if (rows.isEmpty()) {
      return;
    }
    List<List<String>> verdicts = new ArrayList<>();
    for (Row c : conditions.collectAsList()) {
      String name = c.getAs("condition");
      Boolean stable = c.getAs("stable");
      verdicts.add(
          List.of(
              name,
              interval(
                  c.getAs("survived_pct"),
                  c.getAs("survived_pct_lo"),
                  c.getAs("survived_pct_hi"),
                  2),
              interval(
                  c.getAs("damaged_pct"), c.getAs("damaged_pct_lo"), c.getAs("damaged_pct_hi"), 2),
              interval(c.getAs("mean_r"), c.getAs("mean_r_lo"), c.getAs("mean_r_hi"), 3),
              stable == null ? "—" : stable ? "stable" : "NOT stable",
              qdm.analysis.Stability.failedRule(rows, name).orElse("")));
    }
    tables.put(
        qdm.report.HtmlReport.STABILITY,
        new ReportData.Table(
            List.of(
                "condition",
                "survived % [95 % interval]",
                "damaged % [interval]",
                "mean r [interval]",
                "verdict",
                "failing rule"),
            verdicts));
    tables.put(
        "Stability: survived % and damaged % on token budgets (b = fraction of the windows, in"
            + " order) and random window subsets (s = subset), each the whole analysis on those"
            + " windows",
        pivot(
            rows,
            List.of("budget", "subset"),
            r -> r.getAs("check").equals("budget") ? "b=" : "s="));
    tables.put(
        "Stability: the threshold grid (the full run's r reclassified: survived % for each"
            + " survived threshold S, damaged % for each damaged threshold D)",
        thresholdGrid(rows));
  }

  /** Per condition: survived %, then damaged %, for each (check, param) of {@code checks}. */
  private static ReportData.Table pivot(
      List<Row> rows, List<String> checks, java.util.function.Function<Row, String> prefix) {
    List<String> params = new ArrayList<>();
    Map<String, Map<String, Row>> byCondition = new LinkedHashMap<>();
    for (Row r : rows) {
      if (!checks.contains((String) r.getAs("check"))) {
        continue;
      }
      String key = prefix.apply(r) + r.getAs("param");
      if (!params.contains(key)) {
        params.add(key);
      }
      byCondition.computeIfAbsent(r.getAs("condition"), k -> new LinkedHashMap<>()).put(key, r);
    }
    List<String> header = new ArrayList<>(List.of("condition"));
    params.forEach(p -> header.add("surv % " + p));
    params.forEach(p -> header.add("dmg % " + p));
    List<List<String>> body = new ArrayList<>();
    for (Map.Entry<String, Map<String, Row>> e : byCondition.entrySet()) {
      List<String> line = new ArrayList<>(List.of(e.getKey()));
      for (String column : List.of("survived_pct", "damaged_pct")) {
        for (String p : params) {
          Row r = e.getValue().get(p);
          Double v = r == null ? null : r.getAs(column);
          line.add(v == null ? "" : String.format(java.util.Locale.ROOT, "%.2f", v));
        }
      }
      body.add(line);
    }
    return new ReportData.Table(header, body);
  }

  /**
   * The threshold grid, collapsed: survived % depends only on S and damaged % only on D, so one
   * column per S and one per D.
   */
  private static ReportData.Table thresholdGrid(List<Row> rows) {
    List<String> survivedAt = new ArrayList<>();
    List<String> damagedAt = new ArrayList<>();
    Map<String, Map<String, String>> cells = new LinkedHashMap<>();
    for (Row r : rows) {
      if (!r.getAs("check").equals("threshold")) {
        continue;
      }
      String[] sd = ((String) r.getAs("param")).split("/");
      String sKey = "surv % r>" + sd[0];
      String dKey = "dmg % r<" + sd[1];
      if (!survivedAt.contains(sKey)) {
        survivedAt.add(sKey);
      }
      if (!damagedAt.contains(dKey)) {
        damagedAt.add(dKey);
      }
      Map<String, String> m =
          cells.computeIfAbsent(r.getAs("condition"), k -> new LinkedHashMap<>());
      m.put(sKey, String.format(java.util.Locale.ROOT, "%.2f", (Double) r.getAs("survived_pct")));
      m.put(dKey, String.format(java.util.Locale.ROOT, "%.2f", (Double) r.getAs("damaged_pct")));
    }
    List<String> header = new ArrayList<>(List.of("condition"));
    header.addAll(survivedAt);
    header.addAll(damagedAt);
    List<List<String>> body = new ArrayList<>();
    for (Map.Entry<String, Map<String, String>> e : cells.entrySet()) {
      List<String> line = new ArrayList<>(List.of(e.getKey()));
      for (String h : header.subList(1, header.size())) {
        line.add(e.getValue().getOrDefault(h, ""));
      }
      body.add(line);
    }
    return new ReportData.Table(header, body);
  }

  /** "v [lo, hi]", or v alone without bounds. */
  private static String interval(Double v, Double lo, Double hi, int digits) {
    String f = "%." + digits + "f";
    if (v == null) {
      return "";
    }
    String point = String.format(java.util.Locale.ROOT, f, v);
    if (lo == null || hi == null) {
      return point;
    }
    return point
        + " ["
        + String.format(java.util.Locale.ROOT, f, lo)
        + ", "
        + String.format(java.util.Locale.ROOT, f, hi)
        + "]";
  }

  /**
   * Survived % per SAE (rows, in config order) and condition (columns, in encode order): which
   * layer's features break first.
   */
  private static ReportData.Table bySae(Dataset<Row> conditions, List<String> saes) {
    List<String> order = new ArrayList<>();
    Map<String, Map<String, String>> cells = new LinkedHashMap<>();
    for (Row r : conditions.collectAsList()) { // in encode order, as written
      String c = r.getAs("condition");
      if (!order.contains(c)) {
        order.add(c);
      }
      Double v = r.getAs("survived_pct");
      cells
          .computeIfAbsent(r.getAs("sae"), k -> new LinkedHashMap<>())
          .put(c, v == null ? "" : String.format(java.util.Locale.ROOT, "%.2f", v));
    }
    List<String> header = new ArrayList<>(List.of("sae"));
    header.addAll(order);
    List<List<String>> rows = new ArrayList<>();
    for (String sae : saes) {
      List<String> row = new ArrayList<>(List.of(sae));
      for (String c : order) {
        row.add(cells.getOrDefault(sae, Map.of()).getOrDefault(c, ""));
      }
      rows.add(row);
    }
    return new ReportData.Table(header, rows);
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
