package qdm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.io.HostTensor;
import qdm.testing.Cli;
import qdm.testing.NaiveDecoder;
import qdm.testing.Reference;
import qdm.testing.TinyModels;

/**
 * The architectures without a Hugging Face fixture here (llama variants, qwen2, mistral, gemma 1)
 * through {@code jobs/qdm forward}'s code path, against {@link NaiveDecoder}, an independent
 * plain-loop implementation: every hidden state and the logits to 1e-4. Plus properties: a Mistral
 * window at least as long as the sequence is Llama; the RoPE frequencies of each {@code
 * rope_scaling} type against transformers' values.
 */
class LlamaFamilyTest {
  static final int[] IDS = {3, 17, 250, 9, 88, 511, 42, 7, 130, 64, 5, 300, 77, 12};

  @TempDir Path tmp;

  private Map<String, HostTensor> forward(Path model) throws Exception {
    Path ids = tmp.resolve("ids.json");
    StringBuilder row = new StringBuilder();
    for (int id : IDS) {
      row.append(row.length() == 0 ? "" : ", ").append(id);
    }
    Files.writeString(ids, "{\"input_ids\": [[" + row + "]]}");
    Path out = tmp.resolve(model.getFileName() + ".safetensors");
    Cli.Result r =
        Cli.run(
            "forward",
            "--model",
            model.toString(),
            "--input-ids",
            ids.toString(),
            "--out",
            out.toString());
    assertEquals(0, r.exit(), r.all());
    Map<String, HostTensor> m = new java.util.LinkedHashMap<>();
    try (var f = qdm.io.SafetensorsFile.open(out)) {
      for (String name : f.names()) {
        m.put(name, new HostTensor(f.info(name).shape(), f.readFloats(name)));
      }
    }
    return m;
  }

  private void assertMatchesNaive(TinyModels.Spec spec, String name) throws Exception {
    Path dir = tmp.resolve(name);
    Map<String, float[]> weights = TinyModels.write(dir, spec);
    Map<String, HostTensor> out = forward(dir);
    NaiveDecoder.Output naive = NaiveDecoder.run(weights, spec, IDS);
    for (int i = 0; i <= spec.layers(); i++) {
      assertClose(naive.hidden()[i], out.get("hidden_states." + i), name + " hidden_states." + i);
    }
    assertClose(naive.logits(), out.get("logits"), name + " logits");
  }

  private static void assertClose(double[][] expected, HostTensor actual, String what) {
    float[] a = actual.data();
    int d = expected[0].length;
    double max = 0;
    for (int p = 0; p < expected.length; p++) {
      for (int j = 0; j < d; j++) {
        max = Math.max(max, Math.abs(expected[p][j] - a[p * d + j]));
      }
    }
    assertTrue(max <= 1e-4, what + ": max |naive - forward| = " + max);
  }

  @Test
  void llamaQwen2MistralAndGemmaMatchANaiveDecoder() throws Exception {
    assertMatchesNaive(TinyModels.llama(1), "llama");
    assertMatchesNaive(
        new TinyModels.Spec("llama", 2, 4, true, true, true, 0, true, 2), "llama-biases-tied-mha");
    assertMatchesNaive(TinyModels.qwen2(3), "qwen2");
    assertMatchesNaive(TinyModels.mistral(4, 4), "mistral-window4");
    assertMatchesNaive(TinyModels.gemma(5), "gemma");
  }

  @Test
  void aMistralWindowAsLongAsTheSequenceIsLlama() throws Exception {
    Path mistral = tmp.resolve("mistral-wide");
    Path llama = tmp.resolve("llama-same");
    TinyModels.write(mistral, TinyModels.mistral(IDS.length, 7));
    TinyModels.write(llama, TinyModels.llama(7));
    Map<String, HostTensor> a = forward(mistral);
    Map<String, HostTensor> b = forward(llama);
    for (String k : b.keySet()) {
      assertEquals(0.0, Reference.maxAbsDiff(b.get(k), a.get(k)), k);
    }
    // and a shorter window changes the result
    Path narrow = tmp.resolve("mistral-narrow");
    TinyModels.write(narrow, TinyModels.mistral(3, 7));
    assertTrue(Reference.maxAbsDiff(b.get("logits"), forward(narrow).get("logits")) > 1e-3);
  }

  @Test
  void ropeScalingFrequenciesAreTransformers() {
    // llama3 with the reference llama's settings: the float32 bits the fixture's README lists
    RopeScaling llama3 = new RopeScaling("llama3", 8, 1, 4, 16, 128);
    int[] bits = {
      0x3f13786e, 0x3cc693b0, 0x3b9a08c8, 0x3a6ef74f, 0x39395d21, 0x380fc8f8, 0x36df10c4, 0x35ad07a7
    };
    float[] f = llama3.invFreq(16, 500000, 24);
    for (int j = 0; j < bits.length; j++) {
      assertEquals(bits[j], Float.floatToIntBits(f[j]), "llama3 inv_freq[" + j + "]");
    }
    float[] base = RopeScaling.none().invFreq(16, 10000, 24);
    float[] linear = new RopeScaling("linear", 4, 0, 0, 0, 128).invFreq(16, 10000, 24);
    RopeScaling dynamic = new RopeScaling("dynamic", 2, 0, 0, 0, 128);
    float[] within = dynamic.invFreq(16, 10000, 128);
    float[] beyond = dynamic.invFreq(16, 10000, 256);
    for (int j = 0; j < base.length; j++) {
      assertEquals(base[j] / 4f, linear[j], 0f);
      assertEquals(base[j], within[j], 0f, "dynamic within max_position_embeddings");
      // base * (factor * seq / max - (factor - 1)) ^ (dim / (dim - 2))
      double grown = 10000 * Math.pow(2.0 * 256 / 128 - 1, 16.0 / 14);
      assertEquals(1 / Math.pow(grown, 2.0 * j / 16), beyond[j], 1e-6 * base[j] + 1e-12);
    }
  }
}
