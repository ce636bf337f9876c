package qdm.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.testing.LocalSpark;
import qdm.testing.TinyAudit;

/**
 * The audit as the paper's Pythia setup runs it (TransformerLens-processed model, conditions in the
 * TL convention), end to end on the tiny model. Oracles: processing changes no log-probability, so
 * the FP perplexities equal those of the unprocessed audit; the FP null run holds; the report's
 * provenance names the processing and every condition's convention.
 */
class ProcessedAuditTest {
  @TempDir static Path tmp;

  private static String conf(TinyAudit a, String run, String processing) {
    return a.config(run, 256)
        .replaceAll(
            "(?s)conditions = \\[.*?\\n\\s*\\]",
            """
        model.processing = %s
        compression.convention = tl
        conditions = [
          { name = fp, method = none }
          { name = rtn6, method = rtn, bits = 6 }
          { name = prune30, method = prune, sparsity = 0.3, convention = hf }
        ]"""
                .formatted(processing));
  }

  @Test
  void theProcessedAuditHasTheUnprocessedPerplexitiesAndRecordsItsSetup() throws Exception {
    TinyAudit a = TinyAudit.create(tmp.resolve("files"), 1200);
    var spark = LocalSpark.get();
    RunLayout[] layouts = new RunLayout[2];
    String[] processing = {"transformerlens", "none"};
    for (int i = 0; i < 2; i++) {
      AuditConfig c =
          AuditConfigs.parse(conf(a, "p-" + processing[i], processing[i]), List.of(), "tiny.conf");
      assertEquals("rtn:6:tl", c.condition("rtn6").orElseThrow().spec());
      AuditJob job = new AuditJob(spark, c, Preflight.check(c), false);
      job.run(List.of());
      layouts[i] = job.layout();
      assertTrue(RunState.of(job.layout()).complete());
    }
    List<Row> tl =
        spark
            .read()
            .parquet(layouts[0].table("conditions").toString())
            .orderBy("condition")
            .collectAsList();
    List<Row> hf =
        spark
            .read()
            .parquet(layouts[1].table("conditions").toString())
            .orderBy("condition")
            .collectAsList();
    for (int i = 0; i < tl.size(); i++) {
      String name = tl.get(i).getAs("condition");
      if (name.startsWith("fp")) {
        for (String ppl : new String[] {"ppl_chunked", "ppl_sliding"}) {
          double x = tl.get(i).<Double>getAs(ppl);
          double y = hf.get(i).<Double>getAs(ppl);
          assertEquals(y, x, 1e-4 * y, name + " " + ppl);
        }
        if (name.equals("fp-null")) {
          assertEquals(100.0, tl.get(i).<Double>getAs("survived_pct"), 1e-9);
        }
      }
    }
    JsonObject summary =
        JsonParser.parseString(
                Files.readString(Path.of(layouts[0].table("report/summary.json").toUri())))
            .getAsJsonObject();
    JsonObject provenance = summary.getAsJsonObject("provenance");
    assertEquals("transformerlens", provenance.get("processing").getAsString());
    assertEquals("tl", provenance.getAsJsonObject("convention").get("rtn6").getAsString());
    assertEquals("hf", provenance.getAsJsonObject("convention").get("prune30").getAsString());
  }
}
