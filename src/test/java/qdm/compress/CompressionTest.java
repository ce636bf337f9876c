package qdm.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import qdm.QdmException;
import qdm.cli.Main;
import qdm.condition.Condition;
import qdm.condition.ConditionSyntax;
import qdm.condition.ConditionWeights;
import qdm.condition.ReferenceModel;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.Placement;
import qdm.model.Processing;
import qdm.model.TensorRole;
import qdm.model.TorchEngine;
import qdm.model.Weights;
import qdm.testing.Reference;

/**
 * The spec syntax and canonical names, the report's figures against a naive Java computation, tied
 * tensors, and the errors the command line shows for bad compression parameters.
 */
class CompressionTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "none, fp",
    "FP, fp",
    "rtn:4, rtn4",
    "rtn:8:g128, rtn8-g128",
    "rtn:4:asym, rtn4-asym",
    "rtn:4:asym:g128, rtn4-g128-asym",
    "' rtn:3:g64:asym:targets=embed+decoder ', rtn3-g64-asym@decoder+embed",
    "rtn:2:targets=head, rtn2@head",
    "prune:0.3, prune30",
    "prune:0.30:global, prune30-global",
    "prune:0.175, prune17.5",
    "prune:0, prune0",
    "prune:0.5:targets=decoder+embed+head:global, prune50-global@decoder+embed+head"
  })
  void parsesToCanonicalNames(String spec, String name) {
    assertEquals(name, ConditionSyntax.parse(spec).name());
  }

  @Test
  void parsesToTheRecords() {
    assertEquals(
        new Rtn(4, 128, true, Set.of(TensorRole.DECODER_LINEAR)),
        ConditionSyntax.compression("rtn:4:g128:asym"));
    assertEquals(
        new MagnitudePruning(0.3, true, Set.of(TensorRole.DECODER_LINEAR, TensorRole.LM_HEAD)),
        ConditionSyntax.compression("prune:0.3:global:targets=decoder+lm_head"));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "''| empty",
        "int4| unknown method 'int4'",
        "rtn| bits missing",
        "rtn:four| bits 'four' is not an integer",
        "rtn:9| between 2 and 8, got 9",
        "rtn:1| between 2 and 8, got 1",
        "rtn:4:g0| group size must be positive, got 0",
        "rtn:4:g-8| group size must be positive, got -8",
        "rtn:4:gx| group size 'x' is not an integer",
        "rtn:4:asym:asym| option 'asym' given twice",
        "rtn:4:sym| unknown option 'sym'",
        "rtn:4:targets=norm| unknown target 'norm'",
        "rtn:4:targets=| unknown target ''",
        "prune| fraction missing",
        "prune:30%| fraction '30%' is not a number",
        "prune:1| [0, 1)",
        "prune:30| [0, 1) (0.3 for 30%), got 30.0",
        "prune:-0.1| [0, 1)",
        "prune:0.3:g128| unknown option 'g128'"
      })
  void rejectsBadSpecs(String spec, String message) {
    String m =
        assertThrows(QdmException.class, () -> ConditionSyntax.compression(spec)).getMessage();
    assertTrue(m.contains(message), m);
  }

  @ParameterizedTest
  @ValueSource(strings = {"rtn:4:g4:asym", "rtn:3", "prune:0.3", "prune:0.45:global"})
  void reportMatchesANaiveComputation(String spec) {
    Compression compression = ConditionSyntax.compression(spec);
    Random random = new Random(21);
    try (TinyWeights tiny = new TinyWeights(2, DataType.FLOAT32);
        Weights base =
            tiny.withLinear(
                (name, n) -> {
                  float[] w = TinyWeights.normal(n, 0.2, random);
                  w[0] = 0f; // a zero before compression counts in the sparsity too
                  return w;
                });
        Compressed c = compression.apply(base)) {
      List<String> names = tiny.names(TensorRole.DECODER_LINEAR);
      long params = 0;
      long zeros = 0;
      double sum = 0;
      double max = 0;
      double squaredError = 0;
      double squaredNorm = 0;
      for (String name : names) {
        float[] w = TinyWeights.host(base, name);
        float[] got = TinyWeights.host(c.weights(), name);
        for (int i = 0; i < w.length; i++) {
          params++;
          zeros += got[i] == 0 ? 1 : 0;
          double err = Math.abs(w[i] - got[i]);
          sum += err;
          max = Math.max(max, err);
          squaredError += err * err;
          squaredNorm += (double) w[i] * w[i];
        }
      }
      CompressionReport r = c.report();
      assertEquals(compression.method().id(), r.compression());
      assertEquals(names, r.tensors());
      assertEquals(params, r.parameters());
      assertEquals(zeros, r.zeros());
      assertEquals((double) zeros / params, r.sparsity(), 1e-15);
      assertEquals(sum / params, r.meanAbsError(), 1e-6 * sum / params);
      assertEquals(max, r.maxAbsError(), 0.0);
      double relative = Math.sqrt(squaredError / squaredNorm);
      assertEquals(relative, r.relativeError(), 1e-5 * relative);
      assertTrue(r.summary().startsWith(compression.method().id() + ": 8 tensors, "), r.summary());
    }
  }

  @Test
  void noneSharesEverything() {
    try (TinyWeights tiny = new TinyWeights(1, DataType.FLOAT32);
        Compressed c =
            ConditionWeights.derive(
                new Condition.Reference("fp"),
                new ReferenceModel(tiny.model, null, Processing.NONE, null, Placement.CPU))) {
      for (String name : tiny.model.weights().names()) {
        assertSame(tiny.model.weights().get(name), c.weights().get(name), name);
      }
      assertEquals(0, c.report().parameters());
    }
  }

  @Test
  void aTiedTensorIsCompressedOnceForBothNames() {
    // Gemma-2's lm_head.weight is model.embed_tokens.weight: one parameter under two names.
    String embed = "model.embed_tokens.weight";
    String head = "lm_head.weight";
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model model =
            Model.load(
                ModelFiles.of(Reference.model("gemma2")), root, Device.cpu(), DataType.FLOAT32)) {
      Weights base = model.weights();
      assertSame(base.get(embed), base.get(head));
      for (TensorRole role : List.of(TensorRole.EMBEDDING, TensorRole.LM_HEAD)) {
        try (Compressed c = new Rtn(4, 0, false, Set.of(role)).apply(base)) {
          assertSame(c.weights().get(embed), c.weights().get(head), role.name());
          assertNotSame(base.get(embed), c.weights().get(embed), role.name());
          assertEquals(1, c.report().tensors().size());
          assertEquals(base.get(embed).size(), c.report().parameters());
          float[] w = TinyWeights.host(base, embed);
          assertArrayEquals(RtnTest.naive(w, 64, 4, 0, false), TinyWeights.host(c.weights(), head));
        }
      }
    }
  }

  @Test
  void commandLineReportsBadCompressionInOneLine() {
    Path dir = Reference.model("neox");
    String[] base = {
      "forward",
      "--model",
      dir.toString(),
      "--input-ids",
      dir.resolve("inputs.json").toString(),
      "--out",
      tmp.resolve("o.safetensors").toString(),
      "--compress"
    };
    assertEquals("qdm: rtn bits must be between 2 and 8, got 9", runErr(base, "rtn:9"));
    String g = runErr(base, "rtn:4:g48");
    assertTrue(
        g.startsWith(
            "qdm: rtn4-g48: group size 48 does not divide the row length 64 of "
                + "tensor 'gpt_neox.layers.0.attention.query_key_value.weight'"),
        g);
    assertTrue(runErr(base, "prune:1.5").contains("[0, 1)"));
  }

  private static String runErr(String[] args, String spec) {
    String[] all = Arrays.copyOf(args, args.length + 1);
    all[args.length] = spec;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    assertEquals(2, cli.execute(all), spec);
    return err.toString(StandardCharsets.UTF_8).strip();
  }
}
