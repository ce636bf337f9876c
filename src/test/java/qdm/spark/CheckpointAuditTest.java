package qdm.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.QdmException;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.io.quant.QuantWriters;
import qdm.testing.LocalSpark;
import qdm.testing.Reference;
import qdm.testing.TinyAudit;

/**
 * Checkpoint conditions through the whole audit on the tiny GPT-NeoX model: a GPTQ directory, a
 * GGUF file (the gguf-py fixture of the same reference model), each next to a dense safetensors
 * file of the very weights it dequantizes to, a simulated RTN and pruning matched to the GPTQ
 * model's perplexity. Oracles: each checkpoint's row equals its dense twin's in every measured
 * column (two independent loading paths, one set of weights); the source column names the format
 * and the bits; the preflight lists the tensors changed; the report has the per-tensor table; a
 * checkpoint of another model and the reference itself are refused.
 */
class CheckpointAuditTest {
  @TempDir static Path tmp;

  private static String conf(TinyAudit a, String run, String conditions) {
    return a.config(run, 256)
        .replaceAll("(?s)conditions = \\[.*?\\n\\s*\\]", "conditions = [\n" + conditions + "\n]");
  }

  /** A dense copy of what {@code ckpt} dequantizes to, as a plain safetensors file. */
  private static Path denseTwin(Path modelDir, Path ckpt, Path file) {
    var w = new qdm.io.SafetensorsWriter();
    try (var store =
        qdm.model.Model.openCheckpoint(
            new qdm.model.ModelFiles(modelDir, java.util.Optional.of(ckpt)))) {
      for (String n : store.names()) {
        w.add(n, new qdm.io.HostTensor(store.info(n).shape(), store.readFloats(n)));
      }
    }
    // the view presents GPT-NeoX names as stored, so the file is a plain HF checkpoint
    w.write(file);
    return file;
  }

  @Test
  void checkpointConditionsAuditLikeTheirDenseTwinsAndDescribeThemselves() throws Exception {
    TinyAudit a = TinyAudit.create(tmp.resolve("files"), 1200);
    Path gptq =
        QuantWriters.gptq(
            QuantWriters.read(a.model()), tmp.resolve("gptq4"), 4, 32, false, false, 3);
    Path gguf = Reference.dir().getParent().resolve("gguf/neox/model.gguf");
    Path gptqDense =
        denseTwin(
            a.model(), gptq.resolve("model.safetensors"), tmp.resolve("gptq-dense.safetensors"));
    Path ggufDense = denseTwin(a.model(), gguf, tmp.resolve("gguf-dense.safetensors"));
    String conditions =
        """
        { name = fp, method = none }
        { name = rtn4, method = rtn, bits = 4, group-size = 32, asymmetric = true }
        { name = gptq, method = checkpoint, path = "%s" }
        { name = gptq-dense, method = checkpoint, path = "%s" }
        { name = q5, method = checkpoint, path = "%s" }
        { name = q5-dense, method = checkpoint, path = "%s", format = safetensors }
        { method = nf4 }
        { name = prune-to-gptq, method = prune, match-perplexity-of = gptq,
          search { steps = 3, max-tokens = 128 } }
        """
            .formatted(gptq, gptqDense, gguf, ggufDense);
    AuditConfig c = AuditConfigs.parse(conf(a, "ck", conditions), List.of(), "tiny.conf");
    Preflight p = Preflight.check(c);
    String notes = String.join("\n", p.notes());
    assertTrue(
        notes.contains("qdm.conditions.gptq: GPTQ 4-bit, group 32")
            && notes.contains("changes 12 tensor(s) (decoder linear x 12)"),
        notes);
    assertTrue(notes.contains("qdm.conditions.q5: GGUF"), notes);
    AuditJob job = new AuditJob(LocalSpark.get(), c, p, false);
    job.run(List.of());
    assertTrue(RunState.of(job.layout()).complete());

    Map<String, Row> rows = new LinkedHashMap<>();
    for (Row r :
        LocalSpark.get()
            .read()
            .parquet(job.layout().table("conditions").toString())
            .collectAsList()) {
      rows.put(r.getAs("condition"), r);
    }
    for (String[] twins : new String[][] {{"gptq", "gptq-dense"}, {"q5", "q5-dense"}}) {
      Row x = rows.get(twins[0]);
      Row y = rows.get(twins[1]);
      for (String col :
          new String[] {
            "ppl_chunked",
            "ppl_sliding",
            "survived_pct",
            "blurred_pct",
            "damaged_pct",
            "mean_r",
            "median_r"
          }) {
        assertEquals(
            (Double) y.getAs(col),
            (Double) x.getAs(col),
            1e-9,
            twins[0] + " vs " + twins[1] + " " + col);
      }
      assertEquals("checkpoint", x.getAs("method"));
    }
    assertTrue(
        ((Double) rows.get("gptq").getAs("ppl_chunked"))
            != (double) (Double) rows.get("fp").getAs("ppl_chunked"),
        "GPTQ moved the perplexity");
    assertEquals(4, (int) rows.get("gptq").<Integer>getAs("bits"));
    assertEquals(5, (int) rows.get("q5").<Integer>getAs("bits"));
    String src = rows.get("gptq").getAs("source");
    assertTrue(src.startsWith("checkpoint GPTQ 4-bit, group 32: ") && src.endsWith("gptq4"), src);
    assertTrue(
        ((String) rows.get("q5").getAs("source")).startsWith("checkpoint GGUF"),
        (String) rows.get("q5").getAs("source"));
    assertTrue(
        ((String) rows.get("q5-dense").getAs("source")).startsWith("checkpoint safetensors F32"));
    assertEquals("simulated rtn:4:g32:asym", rows.get("rtn4").getAs("source"));
    assertEquals("reference", rows.get("fp").getAs("source"));
    assertEquals("simulated nf4", rows.get("nf4").getAs("source"));
    assertEquals("nf4", rows.get("nf4").getAs("method"));
    assertTrue(rows.get("prune-to-gptq").getAs("sparsity") != null);

    Path report = Path.of(job.layout().table("report").toUri());
    List<String> csv = Files.readAllLines(report.resolve("checkpoint_tensors.csv"));
    assertEquals("condition,tensor,role,elements,relative_error,max_abs_error,changed", csv.get(0));
    assertTrue(
        csv.stream()
            .anyMatch(
                l ->
                    l.startsWith(
                            "gptq,gpt_neox.layers.0.attention."
                                + "query_key_value.weight,decoder_linear,")
                        && l.endsWith(",true")),
        csv.toString());
    assertTrue(
        csv.stream()
            .anyMatch(
                l ->
                    l.startsWith("gptq,gpt_neox.embed_in.weight,")
                        && l.endsWith(",0.00000,0.00000,false")),
        csv.toString());
    var summary =
        com.google.gson.JsonParser.parseString(Files.readString(report.resolve("summary.json")))
            .getAsJsonObject();
    assertEquals(csv.size() - 1, summary.getAsJsonArray("checkpoint_tensors").size());
    assertTrue(
        Files.readString(report.resolve("index.html")).contains("What each checkpoint changed"));
  }

  @Test
  void aCheckpointOfAnotherModelOrTheReferenceItselfIsRefused() throws Exception {
    TinyAudit a = TinyAudit.create(tmp.resolve("files2"), 400);
    Path llama =
        QuantWriters.awq(QuantWriters.read(Reference.model("llama")), tmp.resolve("awq-llama"), 32);
    AuditConfig c =
        AuditConfigs.parse(
            conf(
                a,
                "bad",
                """
        { name = fp, method = none }
        { name = other, method = checkpoint, path = "%s" }
        { name = same, method = checkpoint, path = "%s" }
        { name = gone, method = checkpoint, path = "%s" }
        """
                    .formatted(llama, a.model(), tmp.resolve("nowhere.gguf"))),
            List.of(),
            "tiny.conf");
    QdmException e = assertThrows(QdmException.class, () -> Preflight.check(c));
    String m = e.getMessage();
    assertTrue(m.contains("qdm.conditions.other: ") && m.contains("model_type 'llama'"), m);
    assertTrue(m.contains("qdm.conditions.same: ") && m.contains("equals the reference's"), m);
    assertTrue(m.contains("qdm.conditions.gone: ") && m.contains("checkpoint not found"), m);

    QdmException bad =
        assertThrows(
            QdmException.class,
            () ->
                AuditConfigs.parse(
                    conf(
                        a,
                        "x",
                        """
        { name = fp, method = none }
        { name = k, method = checkpoint, format = onnx, path = "x", bits = 4 }
        { name = j, method = checkpoint }
        """),
                    List.of(),
                    "tiny.conf"));
    assertTrue(
        bad.getMessage().contains("format")
            && bad.getMessage().contains("onnx")
            && bad.getMessage().contains("bits")
            && bad.getMessage().contains("path"),
        bad.getMessage());
  }
}
