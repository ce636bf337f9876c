package qdm.io;

import java.util.Arrays;

/**
 * Where one tensor lives in a safetensors file: dtype, shape and its byte range relative to the
 * start of the data section.
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

  public TensorInfo {
    shape = shape.clone();
  }

  /** Number of elements (1 for a scalar). */
  public long numel() {
    return numel(shape);
  }

  /** Length of the tensor's data in bytes. */
  public long byteLength() {
    return end - begin;
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** The shape as {@code [a, b, c]}, for messages. */
  public String shapeString() {
    return Arrays.toString(shape);
  }

  /** Product of the dimensions, with overflow checked. */
  public static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t
        && name.equals(t.name)
        && dtype == t.dtype
        && Arrays.equals(shape, t.shape)
        && begin == t.begin
        && end == t.end;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + " " + dtype + shapeString();
  }
}
