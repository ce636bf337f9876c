package qdm.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import qdm.testing.HalfFloats;

/**
 * The 16-bit conversions against an independent oracle: IEEE 754 decoding written from the field
 * definitions, and round-to-nearest-even checked at every rounding boundary (the exact midpoint
 * between every pair of adjacent 16-bit values, and the floats either side of it).
 */
class FloatsTest {

  static double f16Oracle(int bits) {
    return HalfFloats.f16Value(bits);
  }

  static double bf16Oracle(int bits) {
    return HalfFloats.bf16Value(bits);
  }

  @Test
  void everyF16BitPatternWidensExactlyAndRoundTrips() {
    for (int bits = 0; bits < 1 << 16; bits++) {
      float f = Floats.f16ToFloat((short) bits);
      double expected = f16Oracle(bits);
      if (Double.isNaN(expected)) {
        assertTrue(Float.isNaN(f), "NaN pattern " + Integer.toHexString(bits));
        assertTrue(Float.isNaN(Floats.f16ToFloat(Floats.floatToF16(f))), "NaN stays NaN");
        continue;
      }
      assertEquals(expected, (double) f, 0.0, "value of " + Integer.toHexString(bits));
      assertEquals(
          bits, Floats.floatToF16(f) & 0xFFFF, "round trip of " + Integer.toHexString(bits));
    }
  }

  @Test
  void everyBf16BitPatternWidensExactlyAndRoundTrips() {
    for (int bits = 0; bits < 1 << 16; bits++) {
      float f = Floats.bf16ToFloat((short) bits);
      double expected = bf16Oracle(bits);
      if (Double.isNaN(expected)) {
        assertTrue(Float.isNaN(f), "NaN pattern " + Integer.toHexString(bits));
        assertTrue(Float.isNaN(Floats.bf16ToFloat(Floats.floatToBf16(f))), "NaN stays NaN");
        continue;
      }
      assertEquals(expected, (double) f, 0.0, "value of " + Integer.toHexString(bits));
      assertEquals(
          bits, Floats.floatToBf16(f) & 0xFFFF, "round trip of " + Integer.toHexString(bits));
    }
  }

  /**
   * For each pair of adjacent non-negative values lo &lt; hi of a 16-bit format (the largest finite
   * value paired with infinity at 2^16 or 2^128, which is where IEEE rounding overflows), the
   * midpoint must round to whichever has an even mantissa, and the floats just below and above it
   * to lo and hi. Both signs.
   */
  private static void checkEveryRoundingBoundary(boolean f16) {
    int inf = f16 ? 0x7C00 : 0x7F80;
    int checked = 0;
    for (int lo = 0; lo < inf; lo++) {
      int hi = lo + 1;
      double loValue = f16 ? f16Oracle(lo) : bf16Oracle(lo);
      double hiValue =
          hi == inf
              ? (f16 ? 65536.0 : Math.scalb(1.0, 128))
              : (f16 ? f16Oracle(hi) : bf16Oracle(hi));
      double mid = (loValue + hiValue) / 2; // exact in double
      float midFloat = (float) mid;
      assertEquals(mid, (double) midFloat, 0.0, "midpoints are floats");
      int even = (lo & 1) == 0 ? lo : hi;
      for (int sign : new int[] {0, 0x8000}) {
        float s = sign == 0 ? 1f : -1f;
        assertEquals(even | sign, round(f16, s * midFloat), "tie at " + mid);
        assertEquals(lo | sign, round(f16, s * Math.nextDown(midFloat)), "below " + mid);
        assertEquals(hi | sign, round(f16, s * Math.nextUp(midFloat)), "above " + mid);
      }
      checked++;
    }
    assertEquals(inf, checked);
  }

  private static int round(boolean f16, float value) {
    return (f16 ? Floats.floatToF16(value) : Floats.floatToBf16(value)) & 0xFFFF;
  }

  @Test
  void f16RoundsToNearestEvenAtEveryBoundary() {
    checkEveryRoundingBoundary(true);
  }

  @Test
  void bf16RoundsToNearestEvenAtEveryBoundary() {
    checkEveryRoundingBoundary(false);
  }

  @Test
  void namedRoundingCases() {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1)
    assertEquals(0x3C00, round(true, 1f + 0x1p-11f));
    // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even)
    assertEquals(0x3C02, round(true, 1f + 3 * 0x1p-11f));
    // the largest half is 65504; 65520 is the midpoint to "65536" and overflows to infinity
    assertEquals(0x7BFF, round(true, 65519.996f));
    assertEquals(0x7C00, round(true, 65520f));
    assertEquals(0xFC00, round(true, Float.NEGATIVE_INFINITY));
    // subnormal halves: half of the smallest (2^-25) ties to zero, 3 * 2^-25 ties to 2 * 2^-24
    assertEquals(0x0000, round(true, 0x1p-25f));
    assertEquals(0x0002, round(true, 3 * 0x1p-25f));
    assertEquals(0x8000, round(true, -0f));
    // bfloat16: 1 + 2^-8 ties to 1; 1 + 3 * 2^-8 ties up to 1 + 2^-6
    assertEquals(0x3F80, round(false, 1f + 0x1p-8f));
    assertEquals(0x3F82, round(false, 1f + 3 * 0x1p-8f));
    assertEquals(0x7F80, round(false, Float.MAX_VALUE));
  }
}
