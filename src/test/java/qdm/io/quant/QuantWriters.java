package qdm.io.quant;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import qdm.io.Floats;
import qdm.io.SafetensorsFile;
import qdm.model.Model;
import qdm.model.ModelConfig;
import qdm.model.ModelFiles;
import qdm.model.TensorRole;
import qdm.model.TensorSpec;
import qdm.testing.RawSafetensors;

/**
 * Writes quantized checkpoints of a dense model directory the way the quantization libraries lay
 * them out (GPTQ / AutoGPTQ and GPTQModel, AutoAWQ, compressed-tensors, bitsandbytes as
 * transformers serializes it), for tests. The codes come from plain round-to-nearest of the dense
 * weights (what the libraries' calibration would choose differently does not matter to the layout);
 * packing is written from the projects' packing rules, as bit streams, not with QDM's unpacking
 * code.
 */
public final class QuantWriters {
  private QuantWriters() {}

  /** The dense model: its config.json and every tensor, with the decoder linear names. */
  public record Dense(
      Path dir,
      JsonObject config,
      Map<String, float[]> values,
      Map<String, long[]> shapes,
      List<String> linear) {}

  public static Dense read(Path dir) {
    try {
      JsonObject config =
          JsonParser.parseString(Files.readString(dir.resolve("config.json"))).getAsJsonObject();
      ModelConfig mc = Model.readConfig(ModelFiles.of(dir));
      List<String> linear = new ArrayList<>();
      for (TensorSpec s : mc.tensors()) {
        if (s.role() == TensorRole.DECODER_LINEAR) {
          linear.add(s.name());
        }
      }
      Map<String, float[]> values = new LinkedHashMap<>();
      Map<String, long[]> shapes = new LinkedHashMap<>();
      try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
        for (String n : f.names()) {
          values.put(n, f.readFloats(n));
          shapes.put(n, f.info(n).shape());
        }
      }
      return new Dense(dir, config, values, shapes, linear);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes config.json (with {@code quant}) and the tokenizer; returns the directory. */
  static Path finish(Dense d, Path out, JsonObject quant, RawSafetensors st) {
    try {
      Files.createDirectories(out);
      JsonObject c = d.config.deepCopy();
      c.add("quantization_config", quant);
      Files.writeString(out.resolve("config.json"), c.toString());
      if (Files.exists(d.dir.resolve("tokenizer.json"))) {
        Files.copy(d.dir.resolve("tokenizer.json"), out.resolve("tokenizer.json"));
      }
      st.write(out.resolve("model.safetensors"));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Other tensors as stored (F32). */
  static void copyOthers(Dense d, RawSafetensors st) {
    for (var e : d.values.entrySet()) {
      if (!d.linear.contains(e.getKey())) {
        st.f32(e.getKey(), d.shapes.get(e.getKey()), e.getValue());
      }
    }
  }

  static String module(String weight) {
    return weight.substring(0, weight.length() - ".weight".length());
  }

  /** Sets {@code bits} bits at bit position {@code pos} of a little-endian word stream. */
  static void putBits(int[] words, int base, long pos, int bits, int value) {
    for (int b = 0; b < bits; b++) {
      if (((value >> b) & 1) != 0) {
        long p = pos + b;
        words[base + (int) (p / 32)] |= 1 << (p % 32);
      }
    }
  }

  static float f16(float x) {
    return Floats.f16ToFloat(Floats.floatToF16(x));
  }

  /** Asymmetric min/max scale and zero of values, with the scale rounded to float16. */
  static float[] scaleZero(float[] w, int maxq) {
    float lo = 0;
    float hi = 0;
    for (float x : w) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    float s = f16(Math.max((hi - lo) / maxq, 1e-6f));
    float z = Math.max(0, Math.min(maxq, Math.round(-lo / s)));
    return new float[] {s, z};
  }

  // ---------------------------------------------------------------------------------- GPTQ

  /**
   * GPTQ: codes of column i of W^T packed into qweight [in * bits / 32, out] as a bit stream down
   * each output column; zero points [groups, out * bits / 32] as a bit stream along each group's
   * row, stored minus one unless {@code v2}; scales [groups, out] float16; g_idx [in]. With {@code
   * actOrder} the columns are grouped by a random permutation (what act-order's column ordering
   * leaves in g_idx).
   */
  public static Path gptq(
      Dense d, Path out, int bits, int group, boolean actOrder, boolean v2, long seed) {
    RawSafetensors st = new RawSafetensors();
    copyOthers(d, st);
    int maxq = (1 << bits) - 1;
    Random rnd = new Random(seed);
    for (String name : d.linear) {
      long[] shape = d.shapes.get(name);
      int o = (int) shape[0];
      int in = (int) shape[1];
      float[] w = d.values.get(name);
      int gs = group < 0 ? in : group;
      int groups = in / gs;
      int[] gIdx = new int[in];
      int[] order = new int[in];
      for (int i = 0; i < in; i++) {
        order[i] = i;
      }
      if (actOrder) {
        for (int i = in - 1; i > 0; i--) {
          int j = rnd.nextInt(i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
      }
      for (int r = 0; r < in; r++) {
        gIdx[order[r]] = r / gs;
      }
      float[] scales = new float[groups * o];
      int[] zeros = new int[groups * o];
      for (int g = 0; g < groups; g++) {
        for (int oo = 0; oo < o; oo++) {
          List<Float> vals = new ArrayList<>();
          for (int i = 0; i < in; i++) {
            if (gIdx[i] == g) {
              vals.add(w[oo * in + i]);
            }
          }
          float[] v = new float[vals.size()];
          for (int k = 0; k < v.length; k++) {
            v[k] = vals.get(k);
          }
          float[] sz = scaleZero(v, maxq);
          scales[g * o + oo] = sz[0];
          zeros[g * o + oo] = (int) sz[1];
        }
      }
      int rows = in * bits / 32;
      int[] qweight = new int[rows * o];
      for (int oo = 0; oo < o; oo++) {
        int[] column = new int[rows];
        for (int i = 0; i < in; i++) {
          int g = gIdx[i];
          int q = Math.round(w[oo * in + i] / scales[g * o + oo]) + zeros[g * o + oo];
          putBits(column, 0, (long) i * bits, bits, Math.max(0, Math.min(maxq, q)));
        }
        for (int r = 0; r < rows; r++) {
          qweight[r * o + oo] = column[r];
        }
      }
      int zcols = o * bits / 32;
      int[] qzeros = new int[groups * zcols];
      for (int g = 0; g < groups; g++) {
        for (int oo = 0; oo < o; oo++) {
          int z = v2 ? zeros[g * o + oo] : (zeros[g * o + oo] - 1) & maxq;
          putBits(qzeros, g * zcols, (long) oo * bits, bits, z);
        }
      }
      String m = module(name);
      st.i32(m + ".qweight", new long[] {rows, o}, qweight);
      st.i32(m + ".qzeros", new long[] {groups, zcols}, qzeros);
      st.half(m + ".scales", "F16", new long[] {groups, o}, scales);
      st.i32(m + ".g_idx", new long[] {in}, gIdx);
    }
    JsonObject q = new JsonObject();
    q.addProperty("quant_method", "gptq");
    q.addProperty("bits", bits);
    q.addProperty("group_size", group);
    q.addProperty("desc_act", actOrder);
    q.addProperty("sym", false);
    q.addProperty("checkpoint_format", v2 ? "gptq_v2" : "gptq");
    return finish(d, out, q, st);
  }

  // ----------------------------------------------------------------------------------- AWQ

  /** AutoAWQ's AWQ_ORDER: nibble k of a word holds output column ORDER[k] of its block. */
  private static final int[] AWQ_ORDER = {0, 2, 4, 6, 1, 3, 5, 7};

  public static Path awq(Dense d, Path out, int group) {
    RawSafetensors st = new RawSafetensors();
    copyOthers(d, st);
    for (String name : d.linear) {
      long[] shape = d.shapes.get(name);
      int o = (int) shape[0];
      int in = (int) shape[1];
      float[] w = d.values.get(name);
      int groups = in / group;
      float[] scales = new float[groups * o];
      int[] zeros = new int[groups * o];
      for (int g = 0; g < groups; g++) {
        for (int oo = 0; oo < o; oo++) {
          float[] v = new float[group];
          for (int k = 0; k < group; k++) {
            v[k] = w[oo * in + g * group + k];
          }
          float[] sz = scaleZero(v, 15);
          scales[g * o + oo] = sz[0];
          zeros[g * o + oo] = (int) sz[1];
        }
      }
      int words = o / 8;
      int[] qweight = new int[in * words];
      int[] qzeros = new int[groups * words];
      for (int i = 0; i < in; i++) {
        int g = i / group;
        for (int b = 0; b < words; b++) {
          for (int k = 0; k < 8; k++) {
            int col = b * 8 + AWQ_ORDER[k];
            int q = Math.round(w[col * in + i] / scales[g * o + col]) + zeros[g * o + col];
            qweight[i * words + b] |= Math.max(0, Math.min(15, q)) << (4 * k);
          }
        }
      }
      for (int g = 0; g < groups; g++) {
        for (int b = 0; b < words; b++) {
          for (int k = 0; k < 8; k++) {
            qzeros[g * words + b] |= zeros[g * o + b * 8 + AWQ_ORDER[k]] << (4 * k);
          }
        }
      }
      String m = module(name);
      st.i32(m + ".qweight", new long[] {in, words}, qweight);
      st.i32(m + ".qzeros", new long[] {groups, words}, qzeros);
      st.half(m + ".scales", "F16", new long[] {groups, o}, scales);
    }
    JsonObject q = new JsonObject();
    q.addProperty("quant_method", "awq");
    q.addProperty("bits", 4);
    q.addProperty("group_size", group);
    q.addProperty("version", "gemm");
    q.addProperty("zero_point", true);
    return finish(d, out, q, st);
  }

  // ---------------------------------------------------------------------- compressed-tensors

  /**
   * compressed-tensors. {@code packed}: pack-quantized (codes + 2^(bits-1) as a bit stream along
   * each row of weight_packed; asymmetric zero points packed the same way down each group's column,
   * as newer versions write them). Otherwise int-quantized: int8 codes in {@code weight}. {@code
   * group} 0 = per channel. Scales in {@code scaleDtype}.
   */
  static Path compressedTensors(
      Dense d,
      Path out,
      boolean packed,
      int bits,
      int group,
      boolean symmetric,
      String scaleDtype) {
    RawSafetensors st = new RawSafetensors();
    copyOthers(d, st);
    int lo = -(1 << (bits - 1));
    int hi = (1 << (bits - 1)) - 1;
    for (String name : d.linear) {
      long[] shape = d.shapes.get(name);
      int o = (int) shape[0];
      int in = (int) shape[1];
      float[] w = d.values.get(name);
      int gs = group == 0 ? in : group;
      int groups = in / gs;
      float[] scale = new float[o * groups];
      int[] zero = new int[o * groups];
      int[] q = new int[o * in];
      for (int oo = 0; oo < o; oo++) {
        for (int g = 0; g < groups; g++) {
          float mn = 0;
          float mx = 0;
          for (int k = 0; k < gs; k++) {
            float x = w[oo * in + g * gs + k];
            mn = Math.min(mn, x);
            mx = Math.max(mx, x);
          }
          float s;
          int z;
          if (symmetric) {
            s = Math.max(Math.max(-mn, mx) / hi, 1e-6f);
            z = 0;
          } else {
            s = Math.max((mx - mn) / (hi - lo), 1e-6f);
            z = Math.round(-mn / s) + lo;
          }
          s =
              scaleDtype.equals("F16")
                  ? f16(s)
                  : scaleDtype.equals("BF16") ? Floats.bf16ToFloat(Floats.floatToBf16(s)) : s;
          scale[oo * groups + g] = s;
          zero[oo * groups + g] = Math.max(lo, Math.min(hi, z));
          for (int k = 0; k < gs; k++) {
            int i = g * gs + k;
            int c = Math.round(w[oo * in + i] / s) + zero[oo * groups + g];
            q[oo * in + i] = Math.max(lo, Math.min(hi, c));
          }
        }
      }
      String m = module(name);
      if (packed) {
        int cols = (in * bits + 31) / 32;
        int[] words = new int[o * cols];
        for (int oo = 0; oo < o; oo++) {
          for (int i = 0; i < in; i++) {
            putBits(words, oo * cols, (long) i * bits, bits, q[oo * in + i] - lo);
          }
        }
        st.i32(m + ".weight_packed", new long[] {o, cols}, words);
        st.i64(m + ".weight_shape", new long[] {2}, new long[] {o, in});
      } else {
        st.i8(m + ".weight", new long[] {o, in}, q);
      }
      if (scaleDtype.equals("F32")) {
        st.f32(m + ".weight_scale", new long[] {o, groups}, scale);
      } else {
        st.half(m + ".weight_scale", scaleDtype, new long[] {o, groups}, scale);
      }
      if (!symmetric) {
        if (packed) {
          int rows = (o * bits + 31) / 32;
          int[] column = new int[rows];
          int[] zp = new int[rows * groups];
          for (int g = 0; g < groups; g++) {
            java.util.Arrays.fill(column, 0);
            for (int oo = 0; oo < o; oo++) {
              putBits(column, 0, (long) oo * bits, bits, zero[oo * groups + g] - lo);
            }
            for (int r = 0; r < rows; r++) {
              zp[r * groups + g] = column[r];
            }
          }
          st.i32(m + ".weight_zero_point", new long[] {rows, groups}, zp);
        } else {
          st.i8(m + ".weight_zero_point", new long[] {o, groups}, zero);
        }
      }
    }
    JsonObject wq = new JsonObject();
    wq.addProperty("num_bits", bits);
    wq.addProperty("type", "int");
    wq.addProperty("symmetric", symmetric);
    wq.addProperty("strategy", group == 0 ? "channel" : "group");
    if (group > 0) {
      wq.addProperty("group_size", group);
    }
    JsonObject g0 = new JsonObject();
    g0.add("weights", wq);
    g0.add("input_activations", com.google.gson.JsonNull.INSTANCE);
    JsonObject groupsJson = new JsonObject();
    groupsJson.add("group_0", g0);
    JsonObject q = new JsonObject();
    q.addProperty("quant_method", "compressed-tensors");
    q.addProperty("format", packed ? "pack-quantized" : "int-quantized");
    q.add("config_groups", groupsJson);
    q.addProperty("quantization_status", "compressed");
    return finish(d, out, q, st);
  }

  // ------------------------------------------------------------------------- bitsandbytes

  /** bitsandbytes' NF4 code values (the normal-float 4-bit data type). */
  static final float[] NF4 = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f
  };

  static int nearest(float[] code, float x) {
    int best = 0;
    for (int c = 1; c < code.length; c++) {
      if (Math.abs(code[c] - x) < Math.abs(code[best] - x)) {
        best = c;
      }
    }
    return best;
  }

  /** 4-bit NF4 with {@code blocksize}; {@code nested}: absmax double-quantized in 256-blocks. */
  static Path bnb4(Dense d, Path out, int blocksize, boolean nested, String dtype) {
    RawSafetensors st = new RawSafetensors();
    copyOthers(d, st);
    float[] nestedMap = new float[256];
    for (int j = 0; j < 256; j++) {
      nestedMap[j] = (j - 127.5f) / 127.5f;
    }
    for (String name : d.linear) {
      long[] shape = d.shapes.get(name);
      float[] w = d.values.get(name);
      int n = w.length;
      int blocks = (n + blocksize - 1) / blocksize;
      float[] absmax = new float[blocks];
      for (int k = 0; k < n; k++) {
        absmax[k / blocksize] = Math.max(absmax[k / blocksize], Math.abs(w[k]));
      }
      int[] bytes = new int[(n + 1) / 2];
      for (int k = 0; k < n; k++) {
        int c = nearest(NF4, w[k] / absmax[k / blocksize]);
        bytes[k / 2] |= (k % 2 == 0) ? c << 4 : c;
      }
      st.u8(name, new long[] {bytes.length, 1}, bytes);
      JsonObject state = new JsonObject();
      state.addProperty("quant_type", "nf4");
      state.addProperty("blocksize", blocksize);
      state.addProperty("dtype", dtype);
      com.google.gson.JsonArray sh = new com.google.gson.JsonArray();
      sh.add(shape[0]);
      sh.add(shape[1]);
      state.add("shape", sh);
      if (nested) {
        double mean = 0;
        for (float a : absmax) {
          mean += a;
        }
        float offset = (float) (mean / blocks);
        int nb = (blocks + 255) / 256;
        float[] nabs = new float[nb];
        for (int i = 0; i < blocks; i++) {
          nabs[i / 256] = Math.max(nabs[i / 256], Math.abs(absmax[i] - offset));
        }
        int[] codes = new int[blocks];
        for (int i = 0; i < blocks; i++) {
          codes[i] = nearest(nestedMap, (absmax[i] - offset) / nabs[i / 256]);
        }
        st.u8(name + ".absmax", new long[] {blocks}, codes);
        st.f32(name + ".nested_absmax", new long[] {nb}, nabs);
        st.f32(name + ".nested_quant_map", new long[] {256}, nestedMap);
        state.addProperty("nested_blocksize", 256);
        state.addProperty("nested_offset", offset);
        state.addProperty("nested_dtype", "float32");
      } else {
        st.f32(name + ".absmax", new long[] {blocks}, absmax);
      }
      st.f32(name + ".quant_map", new long[] {16}, NF4);
      byte[] json = state.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      int[] jb = new int[json.length];
      for (int i = 0; i < json.length; i++) {
        jb[i] = json[i] & 0xFF;
      }
      st.u8(name + ".quant_state.bitsandbytes__nf4", new long[] {jb.length}, jb);
    }
    JsonObject q = new JsonObject();
    q.addProperty("quant_method", "bitsandbytes");
    q.addProperty("load_in_4bit", true);
    q.addProperty("bnb_4bit_quant_type", "nf4");
    q.addProperty("bnb_4bit_use_double_quant", nested);
    return finish(d, out, q, st);
  }

  /** LLM.int8: int8 rows with their absmax (SCB). */
  static Path bnb8(Dense d, Path out) {
    RawSafetensors st = new RawSafetensors();
    copyOthers(d, st);
    for (String name : d.linear) {
      long[] shape = d.shapes.get(name);
      int o = (int) shape[0];
      int in = (int) shape[1];
      float[] w = d.values.get(name);
      float[] scb = new float[o];
      int[] q = new int[o * in];
      for (int r = 0; r < o; r++) {
        for (int i = 0; i < in; i++) {
          scb[r] = Math.max(scb[r], Math.abs(w[r * in + i]));
        }
        for (int i = 0; i < in; i++) {
          q[r * in + i] = Math.round(w[r * in + i] * 127f / scb[r]);
        }
      }
      st.i8(name, shape, q);
      st.f32(module(name) + ".SCB", new long[] {o}, scb);
    }
    JsonObject q = new JsonObject();
    q.addProperty("quant_method", "bitsandbytes");
    q.addProperty("load_in_8bit", true);
    return finish(d, out, q, st);
  }
}
