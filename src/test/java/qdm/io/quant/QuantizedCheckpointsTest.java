package qdm.io.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.io.HostTensor;
import qdm.io.SafetensorsFile;
import qdm.io.SafetensorsWriter;
import qdm.io.TensorStore;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.testing.Cli;
import qdm.testing.Reference;

/**
 * GPTQ (2/3/4/8 bits, groups, per channel, act-order, both zero-point conventions), AWQ,
 * compressed-tensors (pack-quantized sym / asym, int-quantized per channel) and bitsandbytes (NF4
 * with and without double quantization, int8) checkpoints of the Llama and GPT-NeoX references,
 * written by {@link QuantWriters}. Oracles: every dequantized weight equals {@link NaiveDequant}
 * bit for bit, every other tensor the dense file's; and {@code jobs/qdm forward} on the checkpoint
 * equals the forward pass on a dense safetensors copy of the naive weights (1e-5).
 */
class QuantizedCheckpointsTest {
  @TempDir Path tmp;

  /** Checks store against the naive dequantizer, then forward against the dense copy. */
  private void check(String model, Path ckpt, BiFunction<SafetensorsFile, String, float[]> naive) {
    QuantWriters.Dense dense = QuantWriters.read(Reference.model(model));
    Path denseDir = tmp.resolve(ckpt.getFileName() + "-dense");
    SafetensorsWriter w = new SafetensorsWriter();
    try (TensorStore store = Model.openCheckpoint(ModelFiles.of(ckpt));
        SafetensorsFile raw = SafetensorsFile.open(ckpt.resolve("model.safetensors"))) {
      for (String name : dense.values().keySet()) {
        float[] got = store.readFloats(name);
        float[] want =
            dense.linear().contains(name) ? naive.apply(raw, name) : dense.values().get(name);
        assertEquals(want.length, got.length, name);
        for (int i = 0; i < want.length; i++) {
          if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
            throw new AssertionError(
                ckpt.getFileName()
                    + " "
                    + name
                    + "["
                    + i
                    + "]: naive "
                    + want[i]
                    + ", store "
                    + got[i]);
          }
        }
        w.add(name, new HostTensor(dense.shapes().get(name), want));
      }
      assertTrue(store.names().containsAll(dense.values().keySet()));
      assertEquals(dense.values().size(), store.names().size(), "no format tensors leak");
    }
    try {
      Files.createDirectories(denseDir);
      Files.copy(Reference.model(model).resolve("config.json"), denseDir.resolve("config.json"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    w.write(denseDir.resolve("model.safetensors"));
    HostTensor a = forward(ckpt, model, "q");
    HostTensor b = forward(denseDir, model, "d");
    double diff = Reference.maxAbsDiff(b, a);
    assertTrue(
        diff <= 1e-5, ckpt.getFileName() + " forward differs from its dense copy by " + diff);
  }

  private HostTensor forward(Path modelDir, String ref, String tag, String... extra) {
    Path out = tmp.resolve(modelDir.getFileName() + "-" + tag + ".st");
    String[] base = {
      "forward",
      "--model",
      modelDir.toString(),
      "--input-ids",
      Reference.model(ref).resolve("inputs.json").toString(),
      "--out",
      out.toString()
    };
    String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    Cli.Result r = Cli.run(args);
    assertEquals(0, r.exit(), r.all());
    return Reference.read(out, "logits");
  }

  private static String module(String weight) {
    return QuantWriters.module(weight);
  }

  @Test
  void gptqEveryBitWidthGroupingAndZeroConvention() {
    QuantWriters.Dense llama = QuantWriters.read(Reference.model("llama"));
    int[][] cases = {{4, 32, 0, 0}, {3, 32, 0, 0}, {2, -1, 0, 1}, {8, 32, 1, 0}, {4, -1, 1, 1}};
    for (int[] c : cases) {
      int bits = c[0];
      boolean act = c[2] == 1;
      boolean v2 = c[3] == 1;
      Path dir =
          QuantWriters.gptq(
              llama,
              tmp.resolve("gptq" + bits + "g" + c[1] + (act ? "act" : "") + (v2 ? "v2" : "")),
              bits,
              c[1],
              act,
              v2,
              7);
      check("llama", dir, (f, n) -> NaiveDequant.gptq(f, module(n), bits, !v2));
    }
  }

  /** AutoGPTQ's layout: the settings in quantize_config.json, config.json without them. */
  @Test
  void gptqSettingsFromAutoGptqsQuantizeConfigJson() throws java.io.IOException {
    QuantWriters.Dense llama = QuantWriters.read(Reference.model("llama"));
    Path dir = QuantWriters.gptq(llama, tmp.resolve("autogptq"), 4, 32, false, false, 5);
    JsonObject config =
        JsonParser.parseString(Files.readString(dir.resolve("config.json"))).getAsJsonObject();
    JsonObject q = config.remove("quantization_config").getAsJsonObject();
    q.remove("quant_method");
    Files.writeString(dir.resolve("config.json"), config.toString());
    Files.writeString(dir.resolve("quantize_config.json"), q.toString());
    check("llama", dir, (f, n) -> NaiveDequant.gptq(f, module(n), 4, true));
  }

  @Test
  void awqGemm() {
    QuantWriters.Dense llama = QuantWriters.read(Reference.model("llama"));
    check(
        "llama",
        QuantWriters.awq(llama, tmp.resolve("awq"), 32),
        (f, n) -> NaiveDequant.awq(f, module(n), 32));
    QuantWriters.Dense neox = QuantWriters.read(Reference.model("neox"));
    check(
        "neox",
        QuantWriters.awq(neox, tmp.resolve("awq-neox"), 32),
        (f, n) -> NaiveDequant.awq(f, module(n), 32));
  }

  @Test
  void compressedTensorsPackedAndInt() {
    QuantWriters.Dense llama = QuantWriters.read(Reference.model("llama"));
    for (Object[] c :
        new Object[][] {
          {true, 4, 32, true, "BF16"},
          {true, 4, 32, false, "F16"},
          {true, 8, 0, true, "BF16"},
          {false, 8, 0, true, "F16"},
          {false, 8, 32, false, "F32"}
        }) {
      boolean packed = (Boolean) c[0];
      int bits = (Integer) c[1];
      Path dir =
          QuantWriters.compressedTensors(
              llama,
              tmp.resolve(
                  "ct"
                      + (packed ? "p" : "i")
                      + bits
                      + "g"
                      + c[2]
                      + (((Boolean) c[3]) ? "sym" : "asym")
                      + c[4]),
              packed,
              bits,
              (Integer) c[2],
              (Boolean) c[3],
              (String) c[4]);
      check(
          "llama",
          dir,
          (f, n) -> {
            long[] s = llama.shapes().get(n);
            return NaiveDequant.compressedTensors(f, module(n), bits, (int) s[0], (int) s[1]);
          });
    }
  }

  @Test
  void bitsAndBytesNf4AndInt8() {
    QuantWriters.Dense llama = QuantWriters.read(Reference.model("llama"));
    for (boolean nested : new boolean[] {false, true}) {
      Path dir = QuantWriters.bnb4(llama, tmp.resolve("nf4" + nested), 64, nested, "bfloat16");
      check(
          "llama",
          dir,
          (f, n) -> {
            float offset = 0;
            if (nested) {
              long[] b = f.readLongs(n + ".quant_state.bitsandbytes__nf4");
              byte[] j = new byte[b.length];
              for (int i = 0; i < j.length; i++) {
                j[i] = (byte) b[i];
              }
              JsonObject state =
                  JsonParser.parseString(new String(j, java.nio.charset.StandardCharsets.UTF_8))
                      .getAsJsonObject();
              offset = state.get("nested_offset").getAsFloat();
            }
            return NaiveDequant.bnb4(f, n, 64, "BF16", offset);
          });
    }
    check(
        "llama",
        QuantWriters.bnb8(llama, tmp.resolve("int8")),
        (f, n) -> NaiveDequant.bnb8(f, module(n)));
  }

  /**
   * The simulated counterpart: {@code --compress nf4} on the dense model equals the forward pass on
   * an NF4 checkpoint of it (blocksize 64, float32 dtype so nothing rounds); double quantization
   * (scales within a percent) moves the logits far less than NF4 itself.
   */
  @Test
  void simulatedNf4IsTheNf4Checkpoint() {
    QuantWriters.Dense llama = QuantWriters.read(Reference.model("llama"));
    Path dir = QuantWriters.bnb4(llama, tmp.resolve("nf4-f32"), 64, false, "float32");
    HostTensor checkpoint = forward(dir, "llama", "ck");
    HostTensor simulated = forward(Reference.model("llama"), "llama", "sim", "--compress", "nf4");
    double diff = Reference.maxAbsDiff(checkpoint, simulated);
    assertTrue(diff <= 1e-6, "nf4 simulated vs checkpoint " + diff);
    HostTensor fp = forward(Reference.model("llama"), "llama", "fp");
    HostTensor dq = forward(Reference.model("llama"), "llama", "dq", "--compress", "nf4:dq");
    double byScales = Reference.maxAbsDiff(simulated, dq);
    double byNf4 = Reference.maxAbsDiff(fp, simulated);
    assertTrue(
        byScales > 0 && byScales < byNf4 / 4,
        "double quantization moved the logits " + byScales + ", NF4 itself " + byNf4);
    HostTensor b128 = forward(Reference.model("llama"), "llama", "b128", "--compress", "nf4:b128");
    assertTrue(Reference.maxAbsDiff(simulated, b128) > 0, "blocksize 128 differs from 64");
    Cli.Result bad =
        Cli.run(
            "forward",
            "--model",
            Reference.model("llama").toString(),
            "--input-ids",
            Reference.model("llama").resolve("inputs.json").toString(),
            "--out",
            tmp.resolve("bad.st").toString(),
            "--compress",
            "nf4:b100");
    assertEquals(2, bad.exit(), bad.all());
    assertTrue(bad.err().contains("power of two"), bad.all());
  }

  /**
   * A quantized safetensors file alone (no config.json beside it) given with {@code --weights}:
   * GPTQ (with g_idx), AWQ and compressed-tensors settings follow from the tensor shapes, so the
   * pass equals the one on the checkpoint directory.
   */
  @Test
  void aQuantizedFileWithoutItsConfigIsReadFromItsShapes() throws java.io.IOException {
    QuantWriters.Dense llama = QuantWriters.read(Reference.model("llama"));
    Path[] dirs = {
      QuantWriters.gptq(llama, tmp.resolve("alone-gptq"), 4, 32, false, false, 9),
      QuantWriters.awq(llama, tmp.resolve("alone-awq"), 32),
      QuantWriters.compressedTensors(llama, tmp.resolve("alone-ct"), true, 4, 32, true, "BF16")
    };
    for (Path dir : dirs) {
      Path alone =
          Files.createDirectories(tmp.resolve(dir.getFileName() + "-file"))
              .resolve("model.safetensors");
      Files.copy(dir.resolve("model.safetensors"), alone);
      HostTensor withConfig = forward(dir, "llama", "cfg");
      HostTensor fromShapes =
          forward(
              Reference.model("llama"),
              "llama",
              dir.getFileName() + "-shapes",
              "--weights",
              alone.toString());
      assertEquals(0.0, Reference.maxAbsDiff(withConfig, fromShapes), dir.getFileName().toString());
    }
  }
}
