package qdm.compress;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import qdm.QdmException;

/**
 * The exact k-th smallest |w| over any number of tensors, without sorting or concatenating them.
 *
 * <p>Non-negative float32 values order like their bit patterns read as ints, so the answer is the
 * smallest bit pattern t with count(|w| <= float(t)) >= k, found by bisection over
 * [0, bits(max |w|)]: about 31 counting passes, each block by block on the tensors' device. The
 * result is always one of the values (the count jumps only at values). Memory is one block's
 * temporaries however many parameters there are (Gemma-2-2B's 2e9 decoder weights included).
 */
final class KthSmallest {
  private KthSmallest() {}

  /**
   * The k-th smallest absolute value (1-based) over all elements of {@code tensors} (keyed by name
   * for messages), computed block by block under children of {@code scratch}.
   */
  static float ofAbs(Map<String, NDArray> tensors, long k, RowBlocks blocks,
      NDManager scratch) {
    long total = tensors.values().stream().mapToLong(NDArray::size).sum();
    if (k < 1 || k > total) {
      throw new IllegalArgumentException("k = " + k + " outside [1, " + total + "]");
    }
    float max = 0f;
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      float[] m = {0f};
      blocks.forEach(e.getValue(), scratch,
          (w32, scope) -> m[0] = Math.max(m[0], w32.abs().max().getFloat()));
      if (!Float.isFinite(m[0])) {
        throw new QdmException("tensor '" + e.getKey() + "' holds NaN or infinite values; "
            + "magnitude pruning needs finite weights");
      }
      max = Math.max(max, m[0]);
    }
    int lo = 0;
    int hi = Float.floatToIntBits(max);
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (countAtMost(tensors, Float.intBitsToFloat(mid), blocks, scratch) >= k) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return Float.intBitsToFloat(lo);
  }

  /** Number of elements with |w| <= t, compared in float32. */
  static long countAtMost(Map<String, NDArray> tensors, float t, RowBlocks blocks,
      NDManager scratch) {
    long[] count = {0};
    for (NDArray w : tensors.values()) {
      blocks.forEach(w, scratch,
          (w32, scope) -> count[0] += w32.abs().lte(t).countNonzero().getLong());
    }
    return count[0];
  }
}
