package qdm.io.quant;

import java.util.Set;
import qdm.QdmException;
import qdm.io.TensorInfo;
import qdm.io.TensorStore;

/**
 * An AWQ checkpoint ({@code quant_method = awq}, AutoAWQ's GEMM layout), dequantized as AutoAWQ's
 * {@code dequantize_gemm} does: {@code qweight} [in, out / 8] and {@code qzeros} [groups, out / 8]
 * hold 4-bit codes packed along the output dimension in AWQ's interleaved order (the 8 nibbles of a
 * word are output columns 0, 2, 4, 6, 1, 3, 5, 7 of its block), {@code scales} [groups, out];
 * {@code W[o][i] = (q[i][o] - z[g][o]) * scales[g][o]} with {@code g = i / group_size}, rounded to
 * the scales' dtype as AutoAWQ computes it.
 */
public final class AwqStore extends DequantizedStore {
  /** Output column of nibble k within a word's block of 8 (AutoAWQ's AWQ_ORDER). */
  static final int[] ORDER = {0, 2, 4, 6, 1, 3, 5, 7};

  private final int groupSize;

  public AwqStore(TensorStore raw, QuantConfig config) {
    super(raw);
    int bits = config.integer("bits", config.integer("w_bit", 4));
    if (bits != 4) {
      throw config.invalid("bits", "4 (AWQ's GEMM packing)");
    }
    String version = config.string("version", "gemm").toLowerCase(java.util.Locale.ROOT);
    if (!version.equals("gemm")) {
      throw config.invalid("version", "gemm (the " + version + " layout is not read)");
    }
    this.groupSize = config.integer("group_size", config.integer("q_group_size", 128));
    if (config.has("zero_point") && !config.bool("zero_point", true)) {
      throw config.invalid("zero_point", "true (AWQ without zero points is not read)");
    }
    passAll();
    for (String name : raw.names()) {
      if (!name.endsWith(".qweight")) {
        continue;
      }
      String m = name.substring(0, name.length() - ".qweight".length());
      requireParts("AWQ", m, ".qzeros", ".scales");
      TensorInfo q = raw.info(name);
      quantized(m, q.shape()[1] * 8, q.shape()[0], Set.of(name, m + ".qzeros", m + ".scales"));
    }
  }

  @Override
  public String describe() {
    return "AWQ 4-bit, group " + groupSize;
  }

  @Override
  protected float[] dequantize(String m) {
    long[] qs = raw.info(m + ".qweight").shape();
    long[] zs = raw.info(m + ".qzeros").shape();
    int in = (int) qs[0];
    int words = (int) qs[1];
    int out = words * 8;
    long[] q = raw.readLongs(m + ".qweight");
    long[] z = raw.readLongs(m + ".qzeros");
    float[] s = raw.readFloats(m + ".scales");
    int groups = (int) zs[0];
    if (groupSize <= 0 || (long) groups * groupSize < in) {
      throw new QdmException(
          raw.source()
              + ": "
              + m
              + ": "
              + groups
              + " groups of "
              + groupSize
              + " do not cover "
              + in
              + " input columns");
    }
    float[] w = new float[out * in];
    for (int i = 0; i < in; i++) {
      int g = i / groupSize;
      for (int b = 0; b < words; b++) {
        long word = q[i * words + b] & 0xFFFFFFFFL;
        long zword = z[g * words + b] & 0xFFFFFFFFL;
        for (int k = 0; k < 8; k++) {
          int o = b * 8 + ORDER[k];
          int code = (int) ((word >>> (4 * k)) & 15);
          int zero = (int) ((zword >>> (4 * k)) & 15);
          w[o * in + i] = (code - zero) * s[g * out + o];
        }
      }
    }
    roundTo(raw.info(m + ".scales").dtype(), w);
    return w;
  }
}
