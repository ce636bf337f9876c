package qdm.io.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.io.HostTensor;
import qdm.io.TensorStore;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.testing.Cli;
import qdm.testing.Reference;

/**
 * GGUF checkpoints of every supported architecture, written by {@code
 * src/test/python/make_gguf_fixtures.py} with llama.cpp's gguf-py: Llama with all 13 block types
 * (Q2_K ... Q6_K, Q4_0 ... Q8_0, F16, BF16, F32) and the converter's Q/K permutation, Mistral,
 * Qwen2 (biases, no permutation), Gemma and Gemma-2 (norms + 1), GPT-NeoX (QKV as [Q; K; V]) and
 * GPT-2 (transposed Conv1D, head written again as {@code output}). Oracles: gguf-py's {@code
 * dequantize} mapped back with numpy ({@code oracle.safetensors}), which every tensor must equal
 * bit for bit; and {@code jobs/qdm forward} on the GGUF against the forward pass on the oracle.
 */
class GgufCheckpointsTest {
  static final String[] CASES = {
    "llama-kquants", "mistral", "qwen2", "gemma", "gemma2", "neox", "gpt2"
  };

  @TempDir Path tmp;

  static Path fixture(String name) {
    return Reference.dir().getParent().resolve("gguf").resolve(name);
  }

  @Test
  void everyArchitectureDequantizesToGgufPysValuesUnderHfNames() {
    for (String c : CASES) {
      Path dir = fixture(c);
      try (TensorStore gguf =
              Model.openCheckpoint(new ModelFiles(dir, Optional.of(dir.resolve("model.gguf"))));
          TensorStore oracle =
              Model.openCheckpoint(
                  new ModelFiles(dir, Optional.of(dir.resolve("oracle.safetensors"))))) {
        assertEquals(new TreeSet<>(oracle.names()), new TreeSet<>(gguf.names()), c);
        for (String name : oracle.names()) {
          assertEquals(oracle.info(name).shapeString(), gguf.info(name).shapeString(), name);
          float[] want = oracle.readFloats(name);
          float[] got = gguf.readFloats(name);
          for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
              throw new AssertionError(
                  c + " " + name + "[" + i + "]: gguf-py " + want[i] + ", QDM " + got[i]);
            }
          }
        }
      }
    }
  }

  @Test
  void allBlockTypesArePresentInTheLlamaFixture() {
    Path dir = fixture("llama-kquants");
    try (GgufStore s =
        GgufStore.open(
            dir.resolve("model.gguf"),
            Model.readConfig(ModelFiles.of(dir)) instanceof qdm.model.llama.LlamaConfig l
                ? qdm.model.llama.LlamaGguf.names(l, true, "llama")
                : null)) {
      Set<String> types = s.types().keySet();
      for (GgmlType t : GgmlType.values()) {
        assertTrue(types.contains(t.name()), t + " missing from the fixture: " + types);
      }
    }
  }

  private HostTensor forward(Path dir, String weights, String tag) {
    Path out = tmp.resolve(dir.getFileName() + "-" + tag + ".st");
    Path ids = tmp.resolve("ids.json");
    try {
      Files.writeString(
          ids,
          "{\"input_ids\": [[1, 5, 9, 17, 33, 65, 2, 7], " + "[3, 4, 100, 12, 8, 90, 11, 6]]}");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Cli.Result r =
        Cli.run(
            "forward",
            "--model",
            dir.toString(),
            "--weights",
            dir.resolve(weights).toString(),
            "--input-ids",
            ids.toString(),
            "--out",
            out.toString());
    assertEquals(0, r.exit(), r.all());
    return Reference.read(out, "logits");
  }

  @Test
  void forwardOnGgufEqualsForwardOnItsDequantizedWeights() {
    for (String c : CASES) {
      Path dir = fixture(c);
      HostTensor g = forward(dir, "model.gguf", "gguf");
      HostTensor o = forward(dir, "oracle.safetensors", "oracle");
      double diff = Reference.maxAbsDiff(o, g);
      assertTrue(diff <= 1e-5, c + ": " + diff);
    }
  }

  /** {@code bench dequant} streams every tensor of a GGUF and prints its figures. */
  @Test
  void theDequantBenchmarkRunsOnAGguf() {
    Cli.Result r = Cli.run("bench", "dequant", "--model", fixture("neox").toString());
    assertEquals(0, r.exit(), r.all());
    assertTrue(r.out().contains("Q5_0 x 12") && r.out().contains("elements/s; peak heap"), r.all());
  }

  @Test
  void unsupportedTypesOtherArchitecturesAndDamagedFilesFailWithOneMessage() throws IOException {
    Path ids = tmp.resolve("ids.json");
    Files.writeString(ids, "{\"input_ids\": [[1, 2, 3]]}");
    Path iq = fixture("iquant");
    Cli.Result r =
        Cli.run(
            "forward",
            "--model",
            iq.toString(),
            "--input-ids",
            ids.toString(),
            "--out",
            tmp.resolve("x.st").toString());
    assertEquals(2, r.exit(), r.all());
    assertTrue(r.err().contains("blk.0.attn_k.weight") && r.err().contains("IQ4_NL"), r.all());

    r =
        Cli.run(
            "forward",
            "--model",
            fixture("gemma").toString(),
            "--weights",
            fixture("mistral").resolve("model.gguf").toString(),
            "--input-ids",
            ids.toString(),
            "--out",
            tmp.resolve("x.st").toString());
    assertEquals(2, r.exit(), r.all());
    assertTrue(r.err().contains("architecture 'llama'") && r.err().contains("gemma"), r.all());

    byte[] bytes = Files.readAllBytes(fixture("qwen2").resolve("model.gguf"));
    Path cut = tmp.resolve("cut.gguf");
    Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    r =
        Cli.run(
            "forward",
            "--model",
            fixture("qwen2").toString(),
            "--weights",
            cut.toString(),
            "--input-ids",
            ids.toString(),
            "--out",
            tmp.resolve("x.st").toString());
    assertEquals(2, r.exit(), r.all());
    assertTrue(r.err().contains("truncated"), r.all());

    Path header = tmp.resolve("header.gguf");
    Files.write(header, java.util.Arrays.copyOf(bytes, 40));
    r =
        Cli.run(
            "forward",
            "--model",
            fixture("qwen2").toString(),
            "--weights",
            header.toString(),
            "--input-ids",
            ids.toString(),
            "--out",
            tmp.resolve("x.st").toString());
    assertEquals(2, r.exit(), r.all());
    assertTrue(r.err().contains("truncated GGUF header"), r.all());

    byte[] bad = bytes.clone();
    bad[0] = 'X';
    Path magic = tmp.resolve("magic.gguf");
    Files.write(magic, bad);
    r =
        Cli.run(
            "forward",
            "--model",
            fixture("qwen2").toString(),
            "--weights",
            magic.toString(),
            "--input-ids",
            ids.toString(),
            "--out",
            tmp.resolve("x.st").toString());
    assertEquals(2, r.exit(), r.all());
    assertTrue(r.err().contains("not a GGUF file"), r.all());
    assertTrue(!Files.exists(tmp.resolve("x.st")), "no output on failure");
  }
}
