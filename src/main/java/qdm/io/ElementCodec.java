package qdm.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Decodes little-endian element bytes of every {@link DType} into float32 or long values. */
final class ElementCodec {
  private ElementCodec() {}

  /** Decodes {@code n} elements from {@code src} (little-endian) into {@code dst[off..]}. */
  static void decodeFloats(DType dtype, ByteBuffer src, float[] dst, int off, int n) {
    ByteBuffer le = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case F32 -> le.asFloatBuffer().get(dst, off, n);
      case F64 -> {
        var d = le.asDoubleBuffer();
        for (int i = 0; i < n; i++) {
          dst[off + i] = (float) d.get(i);
        }
      }
      case F16, BF16 -> {
        var s = le.asShortBuffer();
        short[] tmp = new short[Math.min(n, 1 << 16)];
        for (int done = 0; done < n; ) {
          int m = Math.min(tmp.length, n - done);
          s.get(tmp, 0, m);
          if (dtype == DType.F16) {
            for (int i = 0; i < m; i++) {
              dst[off + done + i] = Floats.f16ToFloat(tmp[i]);
            }
          } else {
            for (int i = 0; i < m; i++) {
              dst[off + done + i] = Floats.bf16ToFloat(tmp[i]);
            }
          }
          done += m;
        }
      }
      default -> throw new IllegalArgumentException(dtype + " is not a float type");
    }
  }

  /** Decodes every element of an integer-typed buffer into {@code dst}. */
  static void decodeLongs(DType dtype, ByteBuffer src, long[] dst) {
    ByteBuffer le = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < dst.length; i++) {
      dst[i] =
          switch (dtype) {
            case I64 -> le.getLong(i * 8);
            case I32 -> le.getInt(i * 4);
            case I16 -> le.getShort(i * 2);
            case I8 -> le.get(i);
            case U8, BOOL -> le.get(i) & 0xFF;
            default -> throw new IllegalArgumentException(dtype + " is not an integer type");
          };
    }
  }
}
