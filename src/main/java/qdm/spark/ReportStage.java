package qdm.spark;

import com.google.gson.GsonBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import qdm.condition.Condition;
import qdm.config.AuditConfig;
import qdm.io.LocalPaths;
import qdm.report.Csv;
import qdm.report.HtmlReport;
import qdm.report.ReportData;
import qdm.tables.Schemas;

/**
 * Stage 4: the report, under {@code <run>/report/}: the small tables as CSV, a {@code summary.json}
 * (condition table, overlap, predictor, provenance), and the HTML page with its charts and a
 * Markdown summary ({@link qdm.report.HtmlReport}).
 */
public final class ReportStage {
  /** Tables copied to CSV. */
  static final List<String> CSV_TABLES =
      List.of(
          "conditions",
          "feature_stats",
          "feature_survival",
          "quartiles",
          "overlap",
          "predictor",
          "stability",
          "stability_windows");

  private ReportStage() {}

  /**
   * Writes the CSVs, {@code summary.json} and the HTML report.
   *
   * @param tokens the tokenize stage's counts (windows and tokens, chunked and sliding)
   */
  static void run(
      SparkSession spark,
      AuditConfig config,
      RunLayout layout,
      Preflight preflight,
      Map<String, Object> tokens) {
    // written to scratch space and published as a whole: a reader never sees half a report
    org.apache.hadoop.fs.Path staging = layout.scratch("report");
    Map<String, List<Map<String, Object>>> json = new LinkedHashMap<>();
    for (String table : CSV_TABLES) {
      Dataset<Row> rows = spark.read().parquet(layout.table(table).toString());
      List<Row> collected = rows.collectAsList();
      layout.writeText(
          new org.apache.hadoop.fs.Path(staging, table + ".csv"), Csv.of(rows.schema(), collected));
      if (List.of("conditions", "overlap", "predictor", "stability").contains(table)) {
        json.put(table, collected.stream().map(ReportStage::toMap).toList());
      }
    }
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("run_name", config.runName());
    summary.put("schema_version", Schemas.VERSION);
    summary.put("provenance", provenance(config, preflight, tokens));
    summary.putAll(json);
    ReportData.Table checkpoints = checkpointTensors(config, preflight);
    if (!checkpoints.rows().isEmpty()) {
      List<Map<String, Object>> rows = new java.util.ArrayList<>();
      for (List<String> r : checkpoints.rows()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("condition", r.get(0));
        m.put("tensor", r.get(1));
        m.put("role", r.get(2));
        m.put("elements", Long.parseLong(r.get(3)));
        m.put("relative_error", Double.parseDouble(r.get(4)));
        m.put("max_abs_error", Double.parseDouble(r.get(5)));
        m.put("changed", Boolean.parseBoolean(r.get(6)));
        rows.add(m);
      }
      summary.put("checkpoint_tensors", rows);
    }
    layout.writeText(
        new org.apache.hadoop.fs.Path(staging, "summary.json"),
        new GsonBuilder()
            .setPrettyPrinting()
            .serializeNulls()
            .serializeSpecialFloatingPointValues()
            .create()
            .toJson(summary));
    qdm.report.ReportData data =
        ReportInputs.read(
            spark,
            config,
            layout,
            provenance(config, preflight, tokens),
            preflight.saes().stream().map(Preflight.NamedSae::name).toList());
    if (!checkpoints.rows().isEmpty()) {
      layout.writeText(
          new org.apache.hadoop.fs.Path(staging, "checkpoint_tensors.csv"), csv(checkpoints));
      Map<String, ReportData.Table> tables = new LinkedHashMap<>(data.tables());
      tables.put(
          "What each checkpoint changed: ||w_c - w_ref|| / ||w_ref|| per tensor", checkpoints);
      data =
          new ReportData(
              data.runName(),
              data.conditions(),
              data.quartileCondition(),
              data.quartiles(),
              data.rocs(),
              data.damage(),
              data.pearson(),
              tables,
              data.configText(),
              data.provenance());
    }
    Map<String, byte[]> files = HtmlReport.render(data);
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      layout.writeBytes(new org.apache.hadoop.fs.Path(staging, f.getKey()), f.getValue());
    }
    layout.commit(staging, layout.table("report"));
  }

  /**
   * Per tensor of every checkpoint condition: how far its stored weights are from the reference's
   * ({@link qdm.model.CheckpointDiff}, the stored tensors before any processing).
   */
  static ReportData.Table checkpointTensors(AuditConfig config, Preflight p) {
    List<List<String>> rows = new java.util.ArrayList<>();
    qdm.model.ModelFiles reference = config.modelFiles();
    for (Condition.Checkpoint k : Condition.checkpoints(config.conditions())) {
      try (var ref = qdm.model.Model.openCheckpoint(reference);
          var ck =
              qdm.model.Model.openCheckpoint(
                  qdm.model.CheckpointFiles.resolve(
                      LocalPaths.local(k.path()), k.format(), reference))) {
        for (var t : qdm.model.CheckpointDiff.of(ref, ck, p.model().tensors())) {
          rows.add(
              List.of(
                  k.name(),
                  t.name(),
                  t.role().name().toLowerCase(java.util.Locale.ROOT),
                  Long.toString(t.elements()),
                  fmt(t.relativeError()),
                  fmt(t.maxAbsError()),
                  Boolean.toString(t.changed())));
        }
      }
    }
    return new ReportData.Table(
        List.of(
            "condition",
            "tensor",
            "role",
            "elements",
            "relative_error",
            "max_abs_error",
            "changed"),
        rows);
  }

  private static String fmt(double v) {
    return String.format(java.util.Locale.ROOT, "%.6g", v);
  }

  private static String csv(ReportData.Table t) {
    StringBuilder b = new StringBuilder(String.join(",", t.header())).append('\n');
    for (List<String> r : t.rows()) {
      b.append(String.join(",", r)).append('\n');
    }
    return b.toString();
  }

  static Map<String, Object> provenance(
      AuditConfig config, Preflight p, Map<String, Object> tokens) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", config.model().path());
    m.put("model_type", p.model().modelType());
    m.put("layers", p.model().numLayers());
    m.put("d_model", p.model().hiddenSize());
    m.put("processing", config.model().processing());
    Map<String, String> conventions = new LinkedHashMap<>();
    for (Condition c : config.conditions()) {
      if (!c.isReference()) {
        conventions.put(c.name(), c.convention().toString());
      }
    }
    m.put("convention", conventions);
    m.put("sae", config.sae().path());
    m.put("sae_architecture", p.sae().architecture());
    m.put("d_sae", p.sae().dSae());
    m.put("hook", p.hook());
    m.put("corpus", config.corpus().paths());
    for (String k : List.of("chunk_windows", "chunk_tokens", "slide_windows", "slide_tokens")) {
      if (tokens.containsKey(k)) {
        m.put(k, tokens.get(k));
      }
    }
    m.put("qdm_version", String.valueOf(ReportStage.class.getPackage().getImplementationVersion()));
    m.put("spark_version", org.apache.spark.package$.MODULE$.SPARK_VERSION());
    m.put("java_version", System.getProperty("java.version"));
    return m;
  }

  private static Map<String, Object> toMap(Row r) {
    Map<String, Object> m = new LinkedHashMap<>();
    String[] names = r.schema().fieldNames();
    for (int i = 0; i < names.length; i++) {
      Object v = r.get(i);
      if (v instanceof scala.collection.Seq<?> seq) {
        v = scala.jdk.javaapi.CollectionConverters.asJava(seq);
      }
      m.put(names[i], v);
    }
    return m;
  }
}
