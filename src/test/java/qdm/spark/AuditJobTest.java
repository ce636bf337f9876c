package qdm.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import qdm.compress.Compressed;
import qdm.condition.ConditionSyntax;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.data.Window;
import qdm.model.Capture;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.Placement;
import qdm.model.TorchEngine;
import qdm.model.Transformer;
import qdm.perplexity.NllTotal;
import qdm.perplexity.Perplexity;
import qdm.sae.Sae;
import qdm.sae.SaeFormat;
import qdm.sae.SparseCodes;
import qdm.tables.Schemas;
import qdm.testing.Cli;
import qdm.testing.LocalSpark;
import qdm.testing.TinyAudit;

/**
 * The whole audit end to end on a local SparkSession, checked against independent computations:
 * codes and NLL recomputed in-process with the model and SAE, Pearson recomputed densely from the
 * published codes, perplexities through the library, the matched search's bookkeeping, and restart
 * behavior (skip, force, retried tasks) by comparing table contents.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuditJobTest {
  @TempDir static Path tmp;
  static TinyAudit audit;
  static SparkSession spark;
  static AuditConfig config;
  static RunLayout layout;

  @BeforeAll
  static void runOnce() {
    audit = TinyAudit.create(tmp, 2400);
    spark = LocalSpark.get();
    config = AuditConfigs.parse(audit.config("t1", 1024), List.of(), "tiny.conf");
    AuditJob job = new AuditJob(spark, config, Preflight.check(config), false);
    job.run(List.of());
    layout = job.layout();
  }

  static Dataset<Row> table(String name) {
    return spark.read().parquet(layout.table(name).toString());
  }

  static List<Row> sorted(Dataset<Row> d, String... by) {
    return d.orderBy(by[0], java.util.Arrays.copyOfRange(by, 1, by.length)).collectAsList();
  }

  @Test
  @Order(1)
  void everyTableIsPublished() {
    for (String t :
        List.of(
            "windows",
            "codes",
            "token_nll",
            "feature_stats",
            "feature_survival",
            "conditions",
            "quartiles",
            "overlap",
            "predictor",
            "matched_search",
            "report/conditions.csv",
            "report/summary.json",
            "config.conf")) {
      assertTrue(layout.exists(layout.table(t)), t);
    }
    assertFalse(
        layout.exists(layout.table("_tmp"))
            && Files.exists(Path.of(layout.table("_tmp").toUri()))
            && Path.of(layout.table("_tmp").toUri()).toFile().list().length > 0,
        "scratch space is cleaned");
    List<String> conditions =
        table("conditions")
            .select("condition")
            .as(org.apache.spark.sql.Encoders.STRING())
            .collectAsList();
    assertEquals(List.of("fp", "fp-null", "rtn8", "rtn3", "prune-matched"), conditions);
  }

  @Test
  @Order(1)
  void theSummaryCountsTheTokensOfTheWindowsTable() throws java.io.IOException {
    com.google.gson.JsonObject provenance =
        com.google.gson.JsonParser.parseString(
                Files.readString(Path.of(layout.table("report/summary.json").toUri())))
            .getAsJsonObject()
            .getAsJsonObject("provenance");
    Row chunk =
        table("windows")
            .where("kind = 'chunk'")
            .selectExpr("count(*)", "sum(size(token_ids))")
            .first();
    assertEquals(chunk.getLong(0), provenance.get("chunk_windows").getAsLong());
    assertEquals(chunk.getLong(1), provenance.get("chunk_tokens").getAsLong());
    assertEquals(
        table("windows").where("kind = 'slide'").count(),
        provenance.get("slide_windows").getAsLong());
  }

  @Test
  @Order(2)
  void codesAndNllMatchAnInProcessForwardAndEncode() {
    List<Row> windows =
        sorted(table("windows").where("kind = 'chunk' and window_id < 4"), "window_id");
    try (NDManager root = TorchEngine.newManager(Placement.CPU.device());
        Model model =
            Model.load(
                ModelFiles.of(audit.model()), root, Placement.CPU.device(), Placement.CPU.dtype());
        Sae sae = Sae.load(audit.sae(), SaeFormat.AUTO, Optional.empty(), root);
        Compressed rtn3 = ConditionSyntax.compression("rtn:3").apply(model.weights())) {
      check(windows, "fp", model.transformer(), sae);
      check(windows, "rtn3", model.withWeights(rtn3.weights()), sae);
    }
  }

  private void check(List<Row> windows, String condition, Transformer t, Sae sae) {
    int layer = sae.hook().block();
    Map<String, Float> expected = new HashMap<>();
    Map<String, Double> expectedNll = new HashMap<>();
    for (Row w : windows) {
      int[] tokens = EncodeFunction.tokens(w);
      long[] ids = new long[tokens.length];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = tokens[i];
      }
      try (NDManager batch = t.weights().manager().newSubManager()) {
        NDArray x = batch.create(ids, new Shape(1, ids.length));
        var acts = t.forward(x, Capture.residualAndNll(layer));
        SparseCodes codes = sae.encodeSparse(acts.residPost(layer));
        for (int i = 0; i < codes.size(); i++) {
          expected.put(
              w.getLong(0) + ":" + codes.token()[i] + ":" + codes.feature()[i],
              codes.activation()[i]);
        }
        float[] nll = acts.nll().orElseThrow().toFloatArray();
        for (int p = 0; p < nll.length; p++) {
          expectedNll.put(w.getLong(0) + ":" + p, (double) nll[p]);
        }
      }
    }
    List<Row> got =
        table("codes").where("condition = '" + condition + "' and window_id < 4").collectAsList();
    assertEquals(expected.size(), got.size(), condition + ": number of non-zero codes");
    for (Row r : got) {
      Float e =
          expected.get(r.getAs("window_id") + ":" + r.getAs("position") + ":" + r.getAs("feature"));
      assertTrue(e != null, condition + ": unexpected code " + r);
      assertEquals(e, (float) r.getAs("activation"), 1e-4f, condition + " " + r);
    }
    List<Row> nll =
        table("token_nll")
            .where("condition = '" + condition + "' and kind = 'chunk' and window_id < 4")
            .collectAsList();
    assertEquals(expectedNll.size(), nll.size());
    for (Row r : nll) {
      assertEquals(
          expectedNll.get(r.getAs("window_id") + ":" + r.getAs("position")),
          (double) r.getAs("nll"),
          1e-4);
    }
  }

  @Test
  @Order(3)
  void pearsonOfThePublishedCodesMatchesADenseRecomputation() {
    long tokens =
        table("windows")
            .where("kind = 'chunk'")
            .selectExpr("sum(size(token_ids))")
            .first()
            .getLong(0);
    int windowLength = 32;
    double[][] fp = dense("fp", tokens, windowLength);
    double[][] q = dense("rtn3", tokens, windowLength);
    Map<Integer, Row> survival = new HashMap<>();
    for (Row r : table("feature_survival").where("condition = 'rtn3'").collectAsList()) {
      survival.put(r.getAs("feature"), r);
    }
    int checked = 0;
    for (int f = 0; f < TinyAudit.D_SAE; f++) {
      double rate = 0;
      for (double[] row : fp) {
        rate += row[f] > 0 ? 1 : 0;
      }
      rate /= tokens;
      Row row = survival.get(f);
      assertEquals(rate > 0.001, row.getAs("active"), "active, feature " + f);
      if (rate > 0.001) {
        assertEquals(pearson(fp, q, f), (double) row.getAs("pearson"), 1e-6, "feature " + f);
        checked++;
      }
    }
    assertTrue(checked > 10, "enough active features to mean something: " + checked);
  }

  private double[][] dense(String condition, long tokens, int length) {
    double[][] out = new double[(int) tokens][TinyAudit.D_SAE];
    for (Row r : table("codes").where("condition = '" + condition + "'").collectAsList()) {
      long w = r.getAs("window_id");
      int p = r.getAs("position");
      out[(int) (w * length + p)][(int) r.getAs("feature")] = (float) r.getAs("activation");
    }
    return out;
  }

  static double pearson(double[][] x, double[][] y, int f) {
    int n = x.length;
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      mx += x[i][f];
      my += y[i][f];
    }
    mx /= n;
    my /= n;
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < n; i++) {
      sxy += (x[i][f] - mx) * (y[i][f] - my);
      sxx += (x[i][f] - mx) * (x[i][f] - mx);
      syy += (y[i][f] - my) * (y[i][f] - my);
    }
    return sxx == 0 || syy == 0 ? 0 : Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
  }

  @Test
  @Order(4)
  void perplexitiesMatchTheLibrary() {
    Map<String, Row> conditions = new HashMap<>();
    for (Row r : table("conditions").collectAsList()) {
      conditions.put(r.getAs("condition"), r);
    }
    List<Window> chunks = new ArrayList<>();
    List<Window> slides = new ArrayList<>();
    for (Row w : sorted(table("windows"), "kind", "window_id")) {
      Window win =
          new Window(
              w.getLong(0), w.getString(1), w.getLong(2), EncodeFunction.tokens(w), w.getInt(4));
      (win.kind().equals(Schemas.CHUNK) ? chunks : slides).add(win);
    }
    try (NDManager root = TorchEngine.newManager(Placement.CPU.device());
        Model model =
            Model.load(
                ModelFiles.of(audit.model()),
                root,
                Placement.CPU.device(),
                Placement.CPU.dtype())) {
      NllTotal chunked = Perplexity.over(model.transformer(), chunks, 4);
      NllTotal sliding = Perplexity.over(model.transformer(), slides, 4);
      assertEquals(
          1, chunked.perplexity() / (double) conditions.get("fp").getAs("ppl_chunked"), 1e-5);
      assertEquals(
          1, sliding.perplexity() / (double) conditions.get("fp").getAs("ppl_sliding"), 1e-5);
    }
    assertEquals(0.0, (double) conditions.get("fp").getAs("delta_ppl_pct"), 1e-12);
  }

  @Test
  @Order(5)
  void nullRunSurvivesAndMatchedSearchIsRecorded() {
    for (Row r :
        table("feature_survival").where("condition = 'fp-null' and active").collectAsList()) {
      assertEquals(1.0, (double) r.getAs("pearson"), 1e-9);
    }
    List<Row> probes = sorted(table("matched_search"), "step");
    assertEquals(3, probes.size());
    assertEquals(0.4, probes.get(0).<Double>getAs("sparsity"), 1e-12); // (0 + 0.8) / 2
    List<Row> chosen = probes.stream().filter(r -> r.<Boolean>getAs("chosen")).toList();
    assertEquals(1, chosen.size());
    double target = chosen.get(0).getAs("target_ppl");
    for (Row p : probes) {
      assertTrue(
          Math.abs(p.<Double>getAs("ppl") - target)
              >= Math.abs(chosen.get(0).<Double>getAs("ppl") - target));
    }
    Row matched = table("conditions").where("condition = 'prune-matched'").first();
    assertEquals(chosen.get(0).<Double>getAs("sparsity"), matched.<Double>getAs("sparsity"), 1e-12);
  }

  @Test
  @Order(6)
  void aSecondRunSkipsCompleteStagesAndForceReproducesTheTables() throws Exception {
    Path codes = Path.of(layout.table("codes").toUri());
    long before =
        Files.getLastModifiedTime(codes.resolve("sae=blocks.1.hook_resid_post/condition=rtn3"))
            .toMillis();
    List<Row> survival = sorted(table("feature_survival"), "condition", "feature");
    List<Row> codeRows = sorted(table("codes"), "condition", "window_id", "position", "feature");

    new AuditJob(spark, config, Preflight.check(config), false).run(List.of());
    assertEquals(
        before,
        Files.getLastModifiedTime(codes.resolve("sae=blocks.1.hook_resid_post/condition=rtn3"))
            .toMillis(),
        "complete encode skipped");

    new AuditJob(spark, config, Preflight.check(config), true).run(List.of());
    assertEquals(codeRows, sorted(table("codes"), "condition", "window_id", "position", "feature"));
    assertEquals(survival, sorted(table("feature_survival"), "condition", "feature"));
  }

  @Test
  @Order(7)
  void aTaskThatFailsOnceIsRetriedWithIdenticalOutput() {
    AuditConfig retried =
        AuditConfigs.parse(
            audit.config("t2", 1024),
            List.of(
                "conditions=[{name=fp,method=none},{name=rtn3,method=rtn,bits=3}]",
                "analysis.null-run=false",
                "windows.sliding.enabled=false"),
            "tiny.conf");
    System.setProperty(EncodeFunction.FAIL_ONCE, "true");
    try {
      new AuditJob(spark, retried, Preflight.check(retried), false).run(List.of());
    } finally {
      System.clearProperty(EncodeFunction.FAIL_ONCE);
    }
    Dataset<Row> again = spark.read().parquet(audit.output().resolve("t2/codes").toString());
    assertEquals(
        sorted(
            table("codes").where("condition in ('fp', 'rtn3')"),
            "condition",
            "window_id",
            "position",
            "feature"),
        sorted(again, "condition", "window_id", "position", "feature"));
  }

  @Test
  @Order(8)
  void stagesRunOneAtATimeFromTheCommandLineAsTheAirflowDagRunsThem() throws Exception {
    Path conf = tmp.resolve("staged.conf");
    Files.writeString(
        conf,
        audit.config("t3", 1024)
            + """

        qdm.conditions = [{name = fp, method = none}, {name = rtn3, method = rtn, bits = 3}]
        qdm.analysis.null-run = false
        qdm.windows.sliding.enabled = false
        """);
    Cli.Result early = Cli.run("run", conf.toString(), "--stage", "analyze");
    assertEquals(2, early.exit(), early.all());
    assertTrue(early.err().contains("stage 'tokenize' has no complete output"), early.all());

    Path run = audit.output().resolve("t3");
    for (String stage : List.of("tokenize", "encode", "analyze", "report")) {
      Cli.Result r = Cli.run("run", conf.toString(), "--stage", stage);
      assertEquals(0, r.exit(), stage + ": " + r.all());
      assertTrue(r.out().contains("qdm run: done"), r.all());
      assertEquals(
          !stage.equals("tokenize") && !stage.equals("encode"),
          r.out().contains("survived%"),
          stage + " prints the condition table only once " + "analyzed:\n" + r.out());
      assertEquals(stage.equals("tokenize"), !Files.exists(run.resolve("codes")), stage);
    }
    assertTrue(Files.exists(run.resolve("report/index.html")));
    assertEquals(
        sorted(table("feature_survival").where("condition = 'rtn3'"), "feature"),
        sorted(
            spark
                .read()
                .parquet(run.resolve("feature_survival").toString())
                .where("condition = 'rtn3'"),
            "feature"));
  }
}
