package qdm.io;

import java.nio.file.Path;
import java.util.Collection;

/**
 * Finiteness of checkpoint tensors, checked before QDM computes with them.
 *
 * <p>One NaN in a weight makes every logit after it NaN, and one in an SAE's encoder silently turns
 * the features it touches into "damaged" ones: an audit would run to the end and print plausible
 * tables. So every float tensor QDM loads is scanned, and the first non-finite element fails the
 * run with the file, the tensor and the element's index. The scan streams the tensor in blocks
 * through {@link TensorStore#readFloats} (memory-mapped for safetensors), so a 5 GB shard needs one
 * block of heap, not 5 GB.
 */
public final class FiniteTensors {
  /** Elements per block of a streamed scan (4 MiB of floats). */
  static final int BLOCK = 1 << 20;

  private FiniteTensors() {}

  /** Scans every tensor of {@code names} in {@code store}; throws on the first non-finite one. */
  public static void require(TensorStore store, Collection<String> names) {
    float[] block = new float[BLOCK];
    for (String name : names) {
      TensorInfo info = store.info(name);
      if (!info.dtype().isFloat()) {
        continue;
      }
      long n = info.numel();
      for (long from = 0; from < n; from += BLOCK) {
        int count = (int) Math.min(BLOCK, n - from);
        store.readFloats(name, from, block, 0, count);
        int bad = firstNonFinite(block, 0, count);
        if (bad >= 0) {
          throw notFinite(store.fileOf(name), info, from + bad, block[bad]);
        }
      }
    }
  }

  /** Scans every tensor of {@code store}. */
  public static void requireAll(TensorStore store) {
    require(store, store.names());
  }

  /** Index (relative to {@code from}) of the first NaN or infinity in a block, or -1. */
  public static int firstNonFinite(float[] data, int from, int count) {
    for (int i = 0; i < count; i++) {
      // x - x is 0 for finite x and NaN for NaN and both infinities: one branch-free test that
      // the JIT vectorizes; the exact element is found only when the block has one
      if (data[from + i] - data[from + i] != 0f) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The error for element {@code flat} of a tensor: file, tensor, value and its index in the
   * tensor's shape.
   */
  public static TensorFormatException notFinite(
      Path file, TensorInfo info, long flat, float value) {
    String what = Float.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
    return new TensorFormatException(
        file,
        info.name(),
        info.shapeString()
            + " holds "
            + what
            + " at index "
            + index(info.shape(), flat)
            + " (element "
            + flat
            + " of "
            + info.numel()
            + "); QDM computes only with finite weights: the file is corrupt or was saved from a "
            + "diverged run");
  }

  /** {@code flat} as a multi-dimensional index of {@code shape}, e.g. {@code [3, 17]}. */
  static String index(long[] shape, long flat) {
    if (shape.length == 0) {
      return "[]";
    }
    long[] idx = new long[shape.length];
    long rest = flat;
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d] = shape[d] == 0 ? 0 : rest % shape[d];
      rest = shape[d] == 0 ? 0 : rest / shape[d];
    }
    return java.util.Arrays.toString(idx);
  }
}
