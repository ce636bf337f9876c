package qdm.io.gguf;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.stream.Collectors;
import qdm.io.Floats;

/**
 * The GGML tensor types QDM dequantizes, each with its block layout (the layouts of llama.cpp's
 * {@code ggml-quants.c}, as {@code gguf-py}'s {@code quants.py} decodes them). A block of {@code
 * blockSize} consecutive elements of a row takes {@code typeSize} bytes; {@link #decode} writes one
 * block's elements as float32, computing in float32 exactly as the reference decoders do (half
 * scales widened first, then one multiply, and one add or subtract where the format has a minimum).
 *
 * <p>I-quants, ternary and MXFP4 types are not read ({@link #name(int)} names them in errors).
 */
public enum GgmlType {
  F32(0, 1, 4),
  F16(1, 1, 2),
  Q4_0(2, 32, 18),
  Q4_1(3, 32, 20),
  Q5_0(6, 32, 22),
  Q5_1(7, 32, 24),
  Q8_0(8, 32, 34),
  Q2_K(10, 256, 84),
  Q3_K(11, 256, 110),
  Q4_K(12, 256, 144),
  Q5_K(13, 256, 176),
  Q6_K(14, 256, 210),
  BF16(30, 1, 2);

  private final int id;
  private final int blockSize;
  private final int typeSize;

  GgmlType(int id, int blockSize, int typeSize) {
    this.id = id;
    this.blockSize = blockSize;
    this.typeSize = typeSize;
  }

  public int id() {
    return id;
  }

  public int blockSize() {
    return blockSize;
  }

  public int typeSize() {
    return typeSize;
  }

  /** The type of {@code id}, or null if QDM does not read it. */
  public static GgmlType of(int id) {
    for (GgmlType t : values()) {
      if (t.id == id) {
        return t;
      }
    }
    return null;
  }

  /** The names of the types QDM reads, for messages. */
  public static String supported() {
    return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
  }

  private static final String[] NAMES = new String[40];

  static {
    String[] n = {
      "F32",
      "F16",
      "Q4_0",
      "Q4_1",
      "Q4_2",
      "Q4_3",
      "Q5_0",
      "Q5_1",
      "Q8_0",
      "Q8_1",
      "Q2_K",
      "Q3_K",
      "Q4_K",
      "Q5_K",
      "Q6_K",
      "Q8_K",
      "IQ2_XXS",
      "IQ2_XS",
      "IQ3_XXS",
      "IQ1_S",
      "IQ4_NL",
      "IQ3_S",
      "IQ2_S",
      "IQ4_XS",
      "I8",
      "I16",
      "I32",
      "I64",
      "F64",
      "IQ1_M",
      "BF16",
      "Q4_0_4_4",
      "Q4_0_4_8",
      "Q4_0_8_8",
      "TQ1_0",
      "TQ2_0",
      "IQ4_NL_4_4",
      "IQ4_NL_4_8",
      "IQ4_NL_8_8",
      "MXFP4"
    };
    System.arraycopy(n, 0, NAMES, 0, n.length);
  }

  /** The GGML name of any type id ("IQ2_XXS"), for messages. */
  public static String name(int id) {
    return id >= 0 && id < NAMES.length && NAMES[id] != null ? NAMES[id] : "type " + id;
  }

  private static float half(ByteBuffer b, int at) {
    return Floats.f16ToFloat(b.getShort(at));
  }

  private static int u8(ByteBuffer b, int at) {
    return b.get(at) & 0xFF;
  }

  /** Decodes the block at byte {@code at} of {@code b} into {@code out[o ... o + blockSize)}. */
  public void decode(ByteBuffer b, int at, float[] out, int o) {
    switch (this) {
      case F32 -> out[o] = b.getFloat(at);
      case F16 -> out[o] = half(b, at);
      case BF16 -> out[o] = Floats.bf16ToFloat(b.getShort(at));
      case Q8_0 -> {
        float d = half(b, at);
        for (int j = 0; j < 32; j++) {
          out[o + j] = b.get(at + 2 + j) * d;
        }
      }
      case Q4_0 -> {
        float d = half(b, at);
        for (int j = 0; j < 16; j++) {
          int q = u8(b, at + 2 + j);
          out[o + j] = d * ((q & 15) - 8);
          out[o + j + 16] = d * ((q >> 4) - 8);
        }
      }
      case Q4_1 -> {
        float d = half(b, at);
        float m = half(b, at + 2);
        for (int j = 0; j < 16; j++) {
          int q = u8(b, at + 4 + j);
          out[o + j] = d * (q & 15) + m;
          out[o + j + 16] = d * (q >> 4) + m;
        }
      }
      case Q5_0 -> {
        float d = half(b, at);
        int qh = b.getInt(at + 2);
        for (int j = 0; j < 16; j++) {
          int q = u8(b, at + 6 + j);
          out[o + j] = d * (((q & 15) | ((qh >>> j) & 1) << 4) - 16);
          out[o + j + 16] = d * (((q >> 4) | ((qh >>> (j + 16)) & 1) << 4) - 16);
        }
      }
      case Q5_1 -> {
        float d = half(b, at);
        float m = half(b, at + 2);
        int qh = b.getInt(at + 4);
        for (int j = 0; j < 16; j++) {
          int q = u8(b, at + 8 + j);
          out[o + j] = d * ((q & 15) | ((qh >>> j) & 1) << 4) + m;
          out[o + j + 16] = d * ((q >> 4) | ((qh >>> (j + 16)) & 1) << 4) + m;
        }
      }
      case Q2_K -> decodeQ2K(b, at, out, o);
      case Q3_K -> decodeQ3K(b, at, out, o);
      case Q4_K -> decodeQ45K(b, at, out, o, false);
      case Q5_K -> decodeQ45K(b, at, out, o, true);
      case Q6_K -> decodeQ6K(b, at, out, o);
      default -> throw new IllegalStateException(name());
    }
  }

  /** scales[16] (low nibble scale, high nibble min), qs[64] (2 bits), d, dmin. */
  private static void decodeQ2K(ByteBuffer b, int at, float[] out, int o) {
    float d = half(b, at + 80);
    float dmin = half(b, at + 82);
    for (int e = 0; e < 256; e++) {
      int half = e / 128;
      int shift = (e % 128) / 32;
      int l = e % 32;
      int q = (u8(b, at + 16 + half * 32 + l) >> (2 * shift)) & 3;
      int sc = u8(b, at + e / 16);
      float dl = d * (sc & 15);
      float ml = dmin * (sc >> 4);
      out[o + e] = dl * q - ml;
    }
  }

  /** hmask[32], qs[64] (2 low bits), scales[12] (6-bit signed, offset 32), d. */
  private static void decodeQ3K(ByteBuffer b, int at, float[] out, int o) {
    float d = half(b, at + 108);
    float[] dl = new float[16];
    for (int i = 0; i < 16; i++) {
      int low = i < 8 ? u8(b, at + 96 + i) & 15 : u8(b, at + 96 + i - 8) >> 4;
      int high = (u8(b, at + 96 + 8 + i % 4) >> (2 * (i / 4))) & 3;
      int scale = (byte) (low | high << 4) - 32;
      dl[i] = d * scale;
    }
    for (int e = 0; e < 256; e++) {
      int half = e / 128;
      int shift = (e % 128) / 32;
      int l = e % 32;
      int ql = (u8(b, at + 32 + half * 32 + l) >> (2 * shift)) & 3;
      int hbit = (u8(b, at + l) >> (e / 32)) & 1;
      int q = ql - ((hbit ^ 1) << 2);
      out[o + e] = dl[e / 16] * q;
    }
  }

  /** Q4_K: d, dmin, scales[12] (6-bit scales and mins), qs[128]; Q5_K adds qh[32]. */
  private static void decodeQ45K(ByteBuffer b, int at, float[] out, int o, boolean five) {
    float d = half(b, at);
    float dmin = half(b, at + 2);
    int s = at + 4;
    float[] dl = new float[8];
    float[] ml = new float[8];
    for (int i = 0; i < 8; i++) {
      int sc;
      int mn;
      if (i < 4) {
        sc = u8(b, s + i) & 63;
        mn = u8(b, s + 4 + i) & 63;
      } else {
        int j = i - 4;
        sc = (u8(b, s + 8 + j) & 15) | ((u8(b, s + j) >> 2) & 0x30);
        mn = (u8(b, s + 8 + j) >> 4) | ((u8(b, s + 4 + j) >> 2) & 0x30);
      }
      dl[i] = d * sc;
      ml[i] = dmin * mn;
    }
    int qh = at + 16;
    int qs = five ? at + 48 : at + 16;
    for (int e = 0; e < 256; e++) {
      int chunk = e / 64;
      int shift = (e % 64) / 32;
      int l = e % 32;
      int q = (u8(b, qs + chunk * 32 + l) >> (4 * shift)) & 15;
      if (five) {
        q |= ((u8(b, qh + l) >> (e / 32)) & 1) << 4;
      }
      out[o + e] = dl[e / 32] * q - ml[e / 32];
    }
  }

  /** ql[128] (4 low bits), qh[64] (2 high bits), scales int8[16], d. */
  private static void decodeQ6K(ByteBuffer b, int at, float[] out, int o) {
    float d = half(b, at + 208);
    for (int e = 0; e < 256; e++) {
      int h = e / 128;
      int r = e % 128;
      int low = (u8(b, at + h * 64 + r % 64) >> (4 * (r / 64))) & 15;
      int high = (u8(b, at + 128 + h * 32 + r % 32) >> (2 * (r / 32))) & 3;
      int q = (low | high << 4) - 32;
      float dl = d * b.get(at + 192 + e / 16);
      out[o + e] = dl * q;
    }
  }
}
