package qdm.io;

import java.util.Arrays;

/**
 * A float32 tensor on the Java heap: row-major data and its shape. The exchange format between
 * files, NDArrays and tests.
 */
public record HostTensor(long[] shape, float[] data) {

  public HostTensor {
    shape = shape.clone();
    if (TensorInfo.numel(shape) != data.length) {
      throw new IllegalArgumentException(
          "shape "
              + Arrays.toString(shape)
              + " needs "
              + TensorInfo.numel(shape)
              + " values, got "
              + data.length);
    }
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** The size of dimension {@code i}. */
  public long dim(int i) {
    return shape[i];
  }

  /** Number of dimensions. */
  public int rank() {
    return shape.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HostTensor t
        && Arrays.equals(shape, t.shape)
        && Arrays.equals(data, t.data);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(shape) * 31 + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "HostTensor" + Arrays.toString(shape);
  }
}
