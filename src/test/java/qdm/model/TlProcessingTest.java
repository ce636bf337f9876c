package qdm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import qdm.condition.Condition;
import qdm.io.HostTensor;
import qdm.io.SafetensorsFile;
import qdm.probe.ForwardOutput;
import qdm.probe.ForwardProbe;
import qdm.probe.ForwardRequest;
import qdm.testing.Reference;

/**
 * TransformerLens processing ({@code --processing transformerlens}) on the shared reference models.
 * Oracles: an independent naive implementation in TL's own layout ({@link NaiveTlProcessing}) for
 * every processed weight; processing changes no log-probability (NLL equal to 1e-5); the processed
 * residual stream has zero mean over d_model (center_writing_weights), which the unprocessed one
 * does not.
 */
class TlProcessingTest {

  private static Map<String, float[]> raw(Path model) {
    Map<String, float[]> t = new LinkedHashMap<>();
    try (SafetensorsFile f = SafetensorsFile.open(model.resolve("model.safetensors"))) {
      for (String name : f.names()) {
        t.put(name, f.readFloats(name));
      }
    }
    return t;
  }

  private static Map<String, float[]> processed(Path model) {
    Map<String, float[]> t = new LinkedHashMap<>();
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model m =
            Model.load(
                ModelFiles.of(model),
                root,
                Device.cpu(),
                DataType.FLOAT32,
                Processing.TRANSFORMERLENS)) {
      for (String name : m.weights().names()) {
        t.put(name, m.weights().get(name).toFloatArray());
      }
    }
    return t;
  }

  private static void assertSameWeights(
      Map<String, float[]> expected, Map<String, float[]> actual, double tolerance) {
    for (Map.Entry<String, float[]> e : expected.entrySet()) {
      float[] a = actual.get(e.getKey());
      assertTrue(a != null, "processed weights lack " + e.getKey());
      assertEquals(e.getValue().length, a.length, e.getKey());
      double max = 0;
      for (int i = 0; i < a.length; i++) {
        max = Math.max(max, Math.abs((double) e.getValue()[i] - a[i]));
      }
      assertTrue(max <= tolerance, e.getKey() + ": max |naive - processed| = " + max);
    }
  }

  @Test
  void neoxWeightsMatchANaiveImplementationInTransformerLensLayout() {
    Path model = Reference.model("neox");
    Map<String, float[]> expected = NaiveTlProcessing.neox(raw(model), 3, 64, 4, 256, 512, false);
    Map<String, float[]> actual = processed(model);
    assertEquals(expected.keySet(), actual.keySet());
    assertSameWeights(expected, actual, 1e-6);
  }

  @Test
  void gemma2WeightsMatchANaiveImplementation() {
    Path model = Reference.model("gemma2");
    Map<String, float[]> expected = NaiveTlProcessing.gemma2(raw(model), 4, 64, 512);
    Map<String, float[]> actual = processed(model);
    assertSameWeights(expected, actual, 1e-6);
  }

  private static ForwardOutput forward(String model, Processing processing) {
    Path dir = Reference.model(model);
    return ForwardProbe.run(
        new ForwardRequest(
            dir,
            Optional.empty(),
            ForwardRequest.readInputIds(dir.resolve("inputs.json")),
            Placement.CPU,
            processing,
            new Condition.Reference("fp"),
            Optional.empty()));
  }

  @Test
  void processingLeavesTheLogProbabilitiesAndCentresTheResidual() {
    for (String model : new String[] {"neox", "gemma2"}) {
      ForwardOutput plain = forward(model, Processing.NONE);
      ForwardOutput tl = forward(model, Processing.TRANSFORMERLENS);
      assertTrue(
          Reference.maxAbsDiff(plain.get("nll"), tl.get("nll")) <= 1e-5,
          model + ": NLL moved by " + Reference.maxAbsDiff(plain.get("nll"), tl.get("nll")));
      if (model.equals("neox")) {
        // the logits shift by a constant per position (center_unembed), the residual is centred
        assertTrue(Reference.maxAbsDiff(plain.get("logits"), tl.get("logits")) > 1e-3);
        for (int i = 0; i <= 3; i++) {
          double mean = maxAbsRowMean(tl.get("hidden_states." + i));
          assertTrue(mean <= 1e-5, "hidden_states." + i + " row mean " + mean);
        }
        assertTrue(
            maxAbsRowMean(plain.get("hidden_states.1")) > 1e-2,
            "the unprocessed residual is not centred (the test would not see a missed step)");
      }
    }
  }

  /**
   * Every architecture: processing leaves the log-probabilities (NLL to 1e-5 on the gpt2 and llama
   * references and on tiny qwen2 / mistral / gemma checkpoints); GPT-2, a LayerNorm model, gets a
   * centred residual stream, the RMSNorm models do not (TL centres nothing there).
   */
  @org.junit.jupiter.api.Test
  void everyArchitectureKeepsItsLogProbabilitiesUnderProcessing(
      @org.junit.jupiter.api.io.TempDir Path tmp) {
    Map<String, Path> models = new LinkedHashMap<>();
    models.put("gpt2", Reference.model("gpt2"));
    models.put("llama", Reference.model("llama"));
    for (qdm.testing.TinyModels.Spec s :
        new qdm.testing.TinyModels.Spec[] {
          qdm.testing.TinyModels.qwen2(11),
          qdm.testing.TinyModels.mistral(4, 12),
          qdm.testing.TinyModels.gemma(13)
        }) {
      Path dir = tmp.resolve(s.modelType());
      qdm.testing.TinyModels.write(dir, s);
      models.put(s.modelType(), dir);
    }
    long[][] ids = ForwardRequest.readInputIds(Reference.model("llama").resolve("inputs.json"));
    for (Map.Entry<String, Path> m : models.entrySet()) {
      ForwardOutput plain = run(m.getValue(), ids, Processing.NONE);
      ForwardOutput tl = run(m.getValue(), ids, Processing.TRANSFORMERLENS);
      double moved = Reference.maxAbsDiff(plain.get("nll"), tl.get("nll"));
      assertTrue(moved <= 1e-5, m.getKey() + ": NLL moved by " + moved);
      if (m.getKey().equals("gpt2")) {
        assertTrue(maxAbsRowMean(tl.get("hidden_states.1")) <= 1e-5, "gpt2 residual centred");
      }
    }
  }

  private static ForwardOutput run(Path dir, long[][] ids, Processing processing) {
    return ForwardProbe.run(
        new ForwardRequest(
            dir,
            Optional.empty(),
            ids,
            Placement.CPU,
            processing,
            new Condition.Reference("fp"),
            Optional.empty()));
  }

  private static double maxAbsRowMean(HostTensor t) {
    long d = t.shape()[t.rank() - 1];
    float[] x = t.data();
    double max = 0;
    for (int r = 0; r < x.length / d; r++) {
      double s = 0;
      for (int j = 0; j < d; j++) {
        s += x[(int) (r * d + j)];
      }
      max = Math.max(max, Math.abs(s / d));
    }
    return max;
  }
}
