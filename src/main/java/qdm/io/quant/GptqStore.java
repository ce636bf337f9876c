package qdm.io.quant;

import java.util.Set;
import qdm.QdmException;
import qdm.io.TensorInfo;
import qdm.io.TensorStore;

/**
 * A GPTQ checkpoint ({@code quantization_config.quant_method = gptq}, as AutoGPTQ and GPTQModel
 * write it), dequantized as GPTQModel's {@code dequantize_weight} does: for each linear module,
 * {@code qweight} [in * bits / 32, out] holds the codes packed along the input dimension (low bits
 * first; 3-bit codes in word triples), {@code qzeros} [groups, out * bits / 32] the zero points
 * packed along the output dimension, {@code scales} [groups, out], and {@code g_idx} [in] the group
 * of each input column (act-order permutes it; without {@code g_idx} and without {@code desc_act}
 * it is {@code i / group_size}, one group for {@code group_size = -1}). Then {@code W[o][i] =
 * scales[g][o] * (q[i][o] - z[g][o])} with {@code g = g_idx[i]}. Checkpoints in the original GPTQ
 * format ({@code checkpoint_format} {@code gptq}, the default) store each zero point minus one: it
 * is added back per field, modulo 2^bits, as GPTQModel's v1-to-v2 conversion does. The product is
 * rounded to the scales' dtype, as {@code dequantize_weight} computes it in that dtype.
 */
public final class GptqStore extends DequantizedStore {
  private final int bits;
  private final int groupSize;
  private final boolean v1Zeros;
  private final boolean descAct;

  /** {@code config} is the {@code quantization_config} object of config.json. */
  public GptqStore(TensorStore raw, QuantConfig config) {
    super(raw);
    this.bits = config.integer("bits", 4);
    if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
      throw config.invalid("bits", "2, 3, 4 or 8 (GPTQ's packed widths QDM reads)");
    }
    this.groupSize = config.integer("group_size", 128);
    if (groupSize == 0 || groupSize < -1) {
      throw config.invalid("group_size", "a positive group size or -1 (one group per column)");
    }
    String format = config.string("checkpoint_format", config.string("format", "gptq"));
    if (!format.equals("gptq") && !format.equals("gptq_v2") && !format.equals("gemm")) {
      throw config.invalid("checkpoint_format", "gptq or gptq_v2 (" + format + " is not read)");
    }
    this.v1Zeros = !format.equals("gptq_v2");
    this.descAct = config.bool("desc_act", false);
    passAll();
    for (String name : raw.names()) {
      if (!name.endsWith(".qweight")) {
        continue;
      }
      String m = name.substring(0, name.length() - ".qweight".length());
      requireParts("GPTQ", m, ".qzeros", ".scales");
      if (!raw.contains(m + ".g_idx") && descAct) {
        throw new QdmException(
            raw.source()
                + ": GPTQ module '"
                + m
                + "' is act-order "
                + "(desc_act = true) but has no "
                + m
                + ".g_idx: the column order is unknown");
      }
      TensorInfo scales = raw.info(m + ".scales");
      long out = scales.shape()[1];
      long in = raw.info(name).shape()[0] * 32 / bits;
      quantized(m, out, in, Set.of(name, m + ".qzeros", m + ".scales", m + ".g_idx"));
    }
  }

  /** The bit width of the codes. */
  public int bits() {
    return bits;
  }

  @Override
  public String describe() {
    return "GPTQ "
        + bits
        + "-bit"
        + (groupSize > 0 ? ", group " + groupSize : ", per channel")
        + (descAct ? ", act-order" : "");
  }

  @Override
  protected float[] dequantize(String m) {
    TensorInfo qi = raw.info(m + ".qweight");
    TensorInfo zi = raw.info(m + ".qzeros");
    long[] qs = qi.shape();
    long[] zs = zi.shape();
    int out = (int) raw.info(m + ".scales").shape()[1];
    int groups = (int) raw.info(m + ".scales").shape()[0];
    int in = (int) (qs[0] * 32 / bits);
    int[] q = Packed.unpackRows(raw.readLongs(m + ".qweight"), (int) qs[0], (int) qs[1], bits);
    int[] z = Packed.unpackCols(raw.readLongs(m + ".qzeros"), (int) zs[0], (int) zs[1], bits);
    if (z.length / groups < out) {
      throw new QdmException(
          raw.source()
              + ": "
              + m
              + ".qzeros "
              + zi.shapeString()
              + " holds fewer than "
              + out
              + " zero points per group");
    }
    int zCols = z.length / groups;
    float[] s = raw.readFloats(m + ".scales");
    int[] g = groupsOf(m, in, groups);
    int mask = (1 << bits) - 1;
    float[] w = new float[out * in];
    for (int i = 0; i < in; i++) {
      int group = g[i];
      for (int o = 0; o < out; o++) {
        int zero = z[group * zCols + o];
        if (v1Zeros) {
          zero = (zero + 1) & mask;
        }
        w[o * in + i] = s[group * out + o] * (q[i * out + o] - zero);
      }
    }
    roundTo(raw.info(m + ".scales").dtype(), w);
    return w;
  }

  private int[] groupsOf(String m, int in, int groups) {
    if (raw.contains(m + ".g_idx")) {
      return groupIndex(m + ".g_idx", in, groups);
    }
    int[] g = new int[in];
    for (int i = 0; i < in; i++) {
      g[i] = groupSize < 0 ? 0 : i / groupSize;
    }
    return g;
  }
}
