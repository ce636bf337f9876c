package qdm.testing;

import java.util.Arrays;

/**
 * A test oracle for the 16-bit float formats, written from the IEEE 754 field definitions and
 * independent of {@code qdm.io.Floats}: decoding from the fields, and round-to-nearest-even by
 * searching a table of every representable value.
 */
public final class HalfFloats {
  private static final HalfFloats F16 = new HalfFloats(true);
  private static final HalfFloats BF16 = new HalfFloats(false);

  private final double[] values; // non-negative finite values in increasing order + overflow
  private final int[] bits;

  private HalfFloats(boolean f16) {
    int inf = f16 ? 0x7C00 : 0x7F80;
    values = new double[inf + 1];
    bits = new int[inf + 1];
    for (int b = 0; b < inf; b++) {
      values[b] = f16 ? f16Value(b) : bf16Value(b);
      bits[b] = b;
    }
    // IEEE overflow: a value rounds to infinity where it would round to 2^(emax + 1)
    values[inf] = f16 ? 65536.0 : Math.scalb(1.0, 128);
    bits[inf] = inf;
  }

  /** binary16 value from its fields: (-1)^s * (e == 0 ? m 2^-24 : (1024 + m) 2^(e - 25)). */
  public static double f16Value(int bits) {
    int s = (bits >>> 15) & 1;
    int e = (bits >>> 10) & 0x1F;
    int m = bits & 0x3FF;
    double sign = s == 1 ? -1 : 1;
    if (e == 0x1F) {
      return m == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
    }
    return sign * (e == 0 ? Math.scalb((double) m, -24) : Math.scalb(1024.0 + m, e - 25));
  }

  /** bfloat16 value from its fields: 8 exponent bits (bias 127), 7 mantissa bits. */
  public static double bf16Value(int bits) {
    int s = (bits >>> 15) & 1;
    int e = (bits >>> 7) & 0xFF;
    int m = bits & 0x7F;
    double sign = s == 1 ? -1 : 1;
    if (e == 0xFF) {
      return m == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
    }
    return sign * (e == 0 ? Math.scalb((double) m, -133) : Math.scalb(128.0 + m, e - 134));
  }

  /** {@code x} rounded to the nearest binary16 value (ties to even), as a float. */
  public static float roundF16(float x) {
    return F16.round(x);
  }

  /** {@code x} rounded to the nearest bfloat16 value (ties to even), as a float. */
  public static float roundBf16(float x) {
    return BF16.round(x);
  }

  private float round(float x) {
    if (Float.isNaN(x) || Float.isInfinite(x)) {
      return x;
    }
    double a = Math.abs((double) x);
    int i = Arrays.binarySearch(values, a);
    int chosen;
    if (i >= 0) {
      chosen = i;
    } else {
      int hi = -i - 1;
      if (hi >= values.length) {
        chosen = values.length - 1;
      } else {
        int lo = hi - 1;
        double dLo = a - values[lo];
        double dHi = values[hi] - a;
        chosen = dLo < dHi ? lo : dHi < dLo ? hi : ((bits[lo] & 1) == 0 ? lo : hi);
      }
    }
    float v = chosen == values.length - 1 ? Float.POSITIVE_INFINITY : (float) values[chosen];
    return Math.copySign(v, x);
  }
}
