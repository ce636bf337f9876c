package qdm.io;

import java.util.Locale;

/** Element types of safetensors and npy files, with their width in bytes. */
public enum DType {
  F64(8),
  F32(4),
  F16(2),
  BF16(2),
  I64(8),
  I32(4),
  I16(2),
  I8(1),
  U8(1),
  BOOL(1);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** Width of one element in bytes. */
  public int bytes() {
    return bytes;
  }

  /** True for the types QDM can widen to float32 (all floating point types). */
  public boolean isFloat() {
    return this == F64 || this == F32 || this == F16 || this == BF16;
  }

  /** Parses a safetensors dtype string ({@code "F32"}, {@code "BF16"}, ...); null if unknown. */
  public static DType fromSafetensors(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
