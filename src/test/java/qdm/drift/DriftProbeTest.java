package qdm.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.compress.Compressed;
import qdm.condition.Condition;
import qdm.condition.ConditionSyntax;
import qdm.condition.ReferenceModel;
import qdm.config.AuditConfigs;
import qdm.io.HostTensor;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.Placement;
import qdm.model.TorchEngine;
import qdm.probe.ForwardOutput;
import qdm.probe.ForwardProbe;
import qdm.probe.ForwardRequest;
import qdm.sae.Sae;
import qdm.sae.SaeFormat;
import qdm.testing.Cli;
import qdm.testing.TinyAudit;

/**
 * The drift of each condition against an independent computation: the {@code forward} command's
 * probe run once per condition over all windows in one batch, with the relative changes and the
 * perplexity computed on the host in float64.
 */
class DriftProbeTest {
  @TempDir static Path tmp;
  static TinyAudit audit;
  static List<int[]> windows;
  static List<Condition> conditions;
  static DriftReport report;

  @BeforeAll
  static void measure() {
    audit = TinyAudit.create(tmp, 1200);
    Random random = new Random(3);
    windows = new ArrayList<>();
    for (int w = 0; w < 6; w++) {
      windows.add(random.ints(32, 1, 512).toArray());
    }
    conditions =
        new ArrayList<>(
            AuditConfigs.parse(audit.config("d", 512), List.of(), "d.conf")
                .conditions()); // fp, rtn8, rtn3, prune-matched
    conditions.add(ConditionSyntax.parse("prune:0.5")); // named prune50
    List<String> progress = new ArrayList<>();
    try (NDManager root = TorchEngine.newManager(Placement.CPU.device());
        Model model =
            Model.load(
                ModelFiles.of(audit.model()), root, Placement.CPU.device(), Placement.CPU.dtype());
        Sae sae = Sae.load(audit.sae(), SaeFormat.AUTO, Optional.empty(), root)) {
      report =
          DriftProbe.run(
              new ReferenceModel(
                  model,
                  ModelFiles.of(audit.model()),
                  qdm.model.Processing.NONE,
                  root,
                  Placement.CPU),
              sae,
              windows,
              conditions,
              4,
              progress::add); // 4 + 2
    }
    assertEquals(3, progress.size(), String.join("\n", progress));
  }

  @Test
  void everyFixedConditionMatchesAnIndependentForwardPass() {
    assertEquals(
        List.of("rtn8", "rtn3", "prune50"),
        report.conditions().stream().map(ConditionDrift::condition).toList());
    assertEquals(1, report.skipped().size());
    assertTrue(report.skipped().get(0).startsWith("prune-matched"), report.skipped().get(0));
    assertEquals(6, report.windows());
    assertEquals(6 * 32, report.tokens());

    ForwardOutput fp = probe(ConditionSyntax.parse("none"));
    assertEquals(perplexity(fp), report.fpPerplexity(), 1e-4 * report.fpPerplexity());
    for (ConditionDrift d : report.conditions()) {
      ForwardOutput c = probe(ConditionSyntax.parse(d.compression()));
      // hook blocks.1.hook_resid_post = hidden_states.2 (not the last block: no final norm)
      assertEquals(
          relative(fp.get("hidden_states.2"), c.get("hidden_states.2")),
          d.residualChange(),
          1e-4 * d.residualChange() + 1e-7,
          d.condition());
      assertEquals(
          relative(fp.get("sae_acts"), c.get("sae_acts")),
          d.codeChange(),
          1e-4 * d.codeChange() + 1e-7,
          d.condition());
      assertEquals(perplexity(c), d.perplexity(), 1e-4 * d.perplexity(), d.condition());
      assertEquals(weightError(d.compression()), d.weightError(), 1e-12, d.condition());
    }
    ConditionDrift rtn8 = report.conditions().get(0);
    ConditionDrift rtn3 = report.conditions().get(1);
    assertTrue(rtn8.residualChange() > 0 && rtn8.residualChange() < rtn3.residualChange());
    assertTrue(rtn8.weightError() < rtn3.weightError());
  }

  @Test
  void outliersCoverEveryTargetTensorAndTheReportPrintsEveryCondition() {
    assertEquals(3 * 4, report.outliers().size()); // 3 layers x (qkv, dense, h_to_4h, 4h_to_h)
    String text = report.render();
    for (String name : List.of("rtn8", "rtn3", "prune50", "skipped: prune-matched")) {
      assertTrue(text.contains(name), text);
    }
    assertTrue(report.renderTensors().contains("gpt_neox.layers.2.mlp.dense_4h_to_h.weight"));
  }

  @Test
  void theCommandRunsAConfigAndRejectsABadSampleSize() throws Exception {
    Path conf = tmp.resolve("d.conf");
    Files.writeString(conf, audit.config("d", 512));
    Cli.Result r = Cli.run("drift", conf.toString(), "--windows", "3");
    assertEquals(0, r.exit(), r.all());
    assertTrue(r.out().contains("sample: 3 windows, 96 tokens"), r.all());
    assertTrue(r.out().contains("rtn3"), r.all());
    assertTrue(!Files.exists(audit.output()), "drift writes nothing");

    Cli.Result bad = Cli.run("drift", conf.toString(), "--windows", "0");
    assertEquals(2, bad.exit(), bad.all());
    assertTrue(bad.err().contains("--windows must be at least 1"), bad.all());
  }

  /**
   * A checkpoint condition (the gguf-py Q5_0 fixture of this very model) in {@code drift}: its
   * weight change is ||w_c - w_ref|| / ||w_ref|| over the decoder linear weights, computed here
   * from the two files directly.
   */
  @Test
  void theCommandMeasuresACheckpointCondition() throws Exception {
    Path gguf = qdm.testing.Reference.dir().getParent().resolve("gguf/neox/model.gguf");
    Path conf = tmp.resolve("ck.conf");
    Files.writeString(
        conf,
        audit
            .config("ck", 512)
            .replaceAll(
                "(?s)conditions = \\[.*?\\n\\s*\\]",
                "conditions = [ { name = fp, method = none }, { name = q5, method = checkpoint, path = \""
                    + gguf
                    + "\" } ]"));
    Cli.Result r = Cli.run("drift", conf.toString(), "--windows", "2");
    assertEquals(0, r.exit(), r.all());
    double diff = 0;
    double norm = 0;
    var reference = qdm.model.ModelFiles.of(audit.model());
    try (var a = qdm.model.Model.openCheckpoint(reference);
        var b =
            qdm.model.Model.openCheckpoint(
                new qdm.model.ModelFiles(audit.model(), java.util.Optional.of(gguf)))) {
      for (var spec : qdm.model.Model.readConfig(reference).tensors()) {
        if (spec.role() == qdm.model.TensorRole.DECODER_LINEAR) {
          float[] x = a.readFloats(spec.name());
          float[] y = b.readFloats(spec.name());
          for (int i = 0; i < x.length; i++) {
            diff += ((double) y[i] - x[i]) * ((double) y[i] - x[i]);
            norm += (double) x[i] * x[i];
          }
        }
      }
    }
    String expected = String.format(java.util.Locale.ROOT, "%9.2f%%", 100 * Math.sqrt(diff / norm));
    String row = r.out().lines().filter(l -> l.startsWith("q5 ")).findFirst().orElseThrow();
    assertTrue(row.contains(expected), row + " lacks " + expected);
  }

  private static ForwardOutput probe(Condition compression) {
    long[][] ids = new long[windows.size()][];
    for (int w = 0; w < ids.length; w++) {
      ids[w] = java.util.Arrays.stream(windows.get(w)).asLongStream().toArray();
    }
    return ForwardProbe.run(
        new ForwardRequest(
            audit.model(),
            Optional.empty(),
            ids,
            Placement.CPU,
            qdm.model.Processing.NONE,
            compression,
            Optional.of(
                new ForwardRequest.SaeSelection(audit.sae(), SaeFormat.AUTO, Optional.empty()))));
  }

  private static double relative(HostTensor reference, HostTensor other) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < reference.data().length; i++) {
      double d = (double) other.data()[i] - reference.data()[i];
      diff += d * d;
      norm += (double) reference.data()[i] * reference.data()[i];
    }
    return Math.sqrt(diff / norm);
  }

  private static double perplexity(ForwardOutput out) {
    double sum = 0;
    for (float v : out.get("nll").data()) {
      sum += v;
    }
    return Math.exp(sum / out.get("nll").data().length);
  }

  private static double weightError(String compression) {
    try (NDManager root = TorchEngine.newManager(Placement.CPU.device());
        Model model =
            Model.load(
                ModelFiles.of(audit.model()), root, Placement.CPU.device(), Placement.CPU.dtype());
        Compressed c = ConditionSyntax.compression(compression).apply(model.weights())) {
      return c.report().relativeError();
    }
  }
}
