package qdm.io.quant;

import qdm.io.SafetensorsFile;
import qdm.testing.HalfFloats;

/**
 * Element-by-element dequantizers written from the formats' definitions, independent of the stores:
 * every code is read as {@code bits} consecutive bits of a little-endian bit stream at the
 * element's bit position (which is what GPTQ's 2/3/4/8-bit packing, compressed-tensors' packing and
 * bitsandbytes' byte pairs amount to), AWQ's nibble through AutoAWQ's AWQ_REVERSE_ORDER, and half
 * rounding through {@link HalfFloats}.
 */
final class NaiveDequant {
  private NaiveDequant() {}

  /** {@code bits} bits at bit position {@code pos} of the words from index {@code base}. */
  static int bitsAt(long[] words, int base, long pos, int bits) {
    int v = 0;
    for (int b = 0; b < bits; b++) {
      long p = pos + b;
      long word = words[base + (int) (p / 32)];
      v |= (int) ((word >>> (p % 32)) & 1) << b;
    }
    return v;
  }

  /** A column of a row-major [rows, cols] word matrix, as its own stream. */
  static long[] column(long[] m, int rows, int cols, int c) {
    long[] out = new long[rows];
    for (int r = 0; r < rows; r++) {
      out[r] = m[r * cols + c];
    }
    return out;
  }

  static float[] gptq(SafetensorsFile f, String m, int bits, boolean v1) {
    long[] qs = f.info(m + ".qweight").shape();
    int rows = (int) qs[0];
    int out = (int) qs[1];
    int in = rows * 32 / bits;
    long[] qw = f.readLongs(m + ".qweight");
    long[] qz = f.readLongs(m + ".qzeros");
    int zcols = (int) f.info(m + ".qzeros").shape()[1];
    float[] s = f.readFloats(m + ".scales");
    long[] g = f.readLongs(m + ".g_idx");
    float[] w = new float[out * in];
    for (int o = 0; o < out; o++) {
      long[] col = column(qw, rows, out, o);
      for (int i = 0; i < in; i++) {
        int gi = (int) g[i];
        int code = bitsAt(col, 0, (long) i * bits, bits);
        int zero = bitsAt(qz, gi * zcols, (long) o * bits, bits);
        if (v1) {
          zero = (zero + 1) % (1 << bits);
        }
        w[o * in + i] = HalfFloats.roundF16(s[gi * out + o] * (code - zero));
      }
    }
    return w;
  }

  private static final int[] AWQ_REVERSE_ORDER = {0, 4, 1, 5, 2, 6, 3, 7};

  static float[] awq(SafetensorsFile f, String m, int group) {
    long[] qs = f.info(m + ".qweight").shape();
    int in = (int) qs[0];
    int words = (int) qs[1];
    int out = words * 8;
    long[] qw = f.readLongs(m + ".qweight");
    long[] qz = f.readLongs(m + ".qzeros");
    float[] s = f.readFloats(m + ".scales");
    float[] w = new float[out * in];
    for (int o = 0; o < out; o++) {
      int nibble = AWQ_REVERSE_ORDER[o % 8];
      for (int i = 0; i < in; i++) {
        int g = i / group;
        int code = (int) ((qw[i * words + o / 8] >>> (4 * nibble)) & 15);
        int zero = (int) ((qz[g * words + o / 8] >>> (4 * nibble)) & 15);
        w[o * in + i] = HalfFloats.roundF16((code - zero) * s[g * out + o]);
      }
    }
    return w;
  }

  static float round(String dtype, float x) {
    return dtype.equals("F16")
        ? HalfFloats.roundF16(x)
        : dtype.equals("BF16") ? HalfFloats.roundBf16(x) : x;
  }

  static float[] compressedTensors(SafetensorsFile f, String m, int bits, int out, int in) {
    int offset = 1 << (bits - 1);
    boolean packed = f.names().contains(m + ".weight_packed");
    long[] codes = packed ? f.readLongs(m + ".weight_packed") : f.readLongs(m + ".weight");
    int cols = packed ? (int) f.info(m + ".weight_packed").shape()[1] : in;
    float[] s = f.readFloats(m + ".weight_scale");
    String dtype = f.info(m + ".weight_scale").dtype().name();
    int groups = s.length / out;
    int gs = in / groups;
    String zn = m + ".weight_zero_point";
    boolean zeros = f.names().contains(zn);
    long[] z = zeros ? f.readLongs(zn) : null;
    boolean zPacked = zeros && f.info(zn).shape()[0] != out;
    int zRows = zeros ? (int) f.info(zn).shape()[0] : 0;
    float[] w = new float[out * in];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        int g = i / gs;
        int q =
            packed
                ? bitsAt(codes, o * cols, (long) i * bits, bits) - offset
                : (int) codes[o * in + i];
        int zero = 0;
        if (zeros) {
          zero =
              zPacked
                  ? bitsAt(column(z, zRows, groups, g), 0, (long) o * bits, bits) - offset
                  : (int) z[o * groups + g];
        }
        w[o * in + i] = round(dtype, (q - zero) * s[o * groups + g]);
      }
    }
    return w;
  }

  static float[] bnb4(SafetensorsFile f, String weight, int blocksize, String dtype, float offset) {
    long[] packed = f.readLongs(weight);
    float[] map = f.readFloats(weight + ".quant_map");
    boolean nested = f.names().contains(weight + ".nested_absmax");
    long[] codes = nested ? f.readLongs(weight + ".absmax") : null;
    float[] nestedMap = nested ? f.readFloats(weight + ".nested_quant_map") : null;
    float[] nestedAbsmax = nested ? f.readFloats(weight + ".nested_absmax") : null;
    float[] plain = nested ? null : f.readFloats(weight + ".absmax");
    int n = packed.length * 2;
    float[] w = new float[n];
    for (int k = 0; k < n; k++) {
      int b = (int) packed[k / 2];
      int code = k % 2 == 0 ? b >> 4 : b & 15;
      int block = k / blocksize;
      float absmax;
      if (nested) {
        absmax = nestedMap[(int) codes[block]] * nestedAbsmax[block / 256] + offset;
      } else {
        absmax = plain[block];
      }
      w[k] = round(dtype, map[code] * absmax);
    }
    return w;
  }

  static float[] bnb8(SafetensorsFile f, String module) {
    long[] q = f.readLongs(module + ".weight");
    float[] scb = f.readFloats(module + ".SCB");
    int in = (int) f.info(module + ".weight").shape()[1];
    float[] w = new float[q.length];
    for (int k = 0; k < q.length; k++) {
      w[k] = q[k] * scb[k / in] * (1f / 127f);
    }
    return w;
  }
}
