package qdm.io;

/**
 * Conversions between float32 and the 16-bit float formats, done in Java.
 *
 * <p>Why in Java: creating or casting a BF16 NDArray kills the JVM with DJL 0.35.1 / PyTorch 2.7.1
 * (see DESIGN.md), and Java 17 has no {@code Float.float16ToFloat}. Rounding to 16 bits is
 * round-to-nearest-even, as PyTorch's {@code tensor.to(float16 / bfloat16)} does.
 */
public final class Floats {
  private Floats() {}

  /** bfloat16 bits to float32: bfloat16 is the upper half of a float32. */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  /** float32 to bfloat16 bits, round to nearest even; NaN stays NaN. */
  public static short floatToBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** IEEE 754 binary16 bits to float32 (exact). */
  public static float f16ToFloat(short half) {
    int h = half & 0xFFFF;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1F;
    int mant = h & 0x3FF;
    if (exp == 0x1F) { // inf or NaN
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      // subnormal: value = mant * 2^-24
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** float32 to IEEE 754 binary16 bits, round to nearest even, overflow to infinity. */
  public static short floatToF16(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7FFFFFFF;
    if (abs >= 0x7F800000) { // inf or NaN
      return (short) (sign | 0x7C00 | (abs > 0x7F800000 ? 0x200 : 0));
    }
    if (abs >= 0x477FF000) { // rounds to a value >= 65520: infinity
      return (short) (sign | 0x7C00);
    }
    if (abs < 0x38800000) { // below the smallest normal half (2^-14): subnormal or zero
      // value * 2^24 rounded half-even gives the subnormal mantissa
      float scaled = Float.intBitsToFloat(abs) * 0x1p24f;
      int mant = (int) Math.rint(scaled);
      return (short) (sign | mant);
    }
    int exp = (abs >>> 23) - 112;
    int mant = abs & 0x7FFFFF;
    int half = (exp << 10) | (mant >>> 13);
    int rest = mant & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
      half++; // carries into the exponent correctly, including up to infinity
    }
    return (short) (sign | half);
  }
}
