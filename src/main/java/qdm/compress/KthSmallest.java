package qdm.compress;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import qdm.QdmException;

/**
 * The exact k-th smallest |w| over any number of tensors, without sorting or concatenating them.
 *
 * <p>Non-negative float32 values order like their bit patterns read as ints. A bisection over bit
 * patterns keeps an interval (a, b] with count(|w| <= a) < k <= count(|w| <= b), one counting pass
 * (block by block on the tensors' device) per step, until the interval holds at most {@link
 * #GATHER} elements; those are then copied to the host, and the answer is the right one of them
 * (quickselect). Memory is one block's temporaries plus the gathered elements, however many
 * parameters there are (Gemma-2-2B's 2e9 decoder weights included). Up to {@link #GATHER} elements
 * in all are simply copied to the host (one pass, no counting).
 */
final class KthSmallest {
  /** The most elements copied to the host for the final selection (4 MiB). */
  static final int GATHER = 1 << 20;

  private KthSmallest() {}

  /**
   * The k-th smallest absolute value (1-based) over all elements of {@code tensors} (keyed by name
   * for messages), computed block by block under children of {@code scratch}.
   */
  static float ofAbs(Map<String, NDArray> tensors, long k, RowBlocks blocks, NDManager scratch) {
    return ofAbs(tensors, k, blocks, GATHER, scratch);
  }

  /** As above, selecting on the host once at most {@code gatherLimit} candidates remain. */
  static float ofAbs(
      Map<String, NDArray> tensors, long k, RowBlocks blocks, int gatherLimit, NDManager scratch) {
    long total = tensors.values().stream().mapToLong(NDArray::size).sum();
    if (k < 1 || k > total) {
      throw new IllegalArgumentException("k = " + k + " outside [1, " + total + "]");
    }
    if (total <= gatherLimit) {
      return select(hostAbs(tensors, (int) total, blocks, scratch), (int) (k - 1));
    }
    float max = 0f;
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      float[] m = {0f};
      blocks.forEach(
          e.getValue(), scratch, (w32, scope) -> m[0] = Math.max(m[0], w32.abs().max().getFloat()));
      checkFinite(e.getKey(), m[0]);
      max = Math.max(max, m[0]);
    }
    // Bit patterns: a = -1 stands for "below every |w|" (count 0); b = max (count total).
    long a = -1;
    long countA = 0;
    long b = Float.floatToIntBits(max);
    long countB = total;
    while (b - a > 1 && countB - countA > gatherLimit) {
      long mid = (a + b) >>> 1;
      long c = countAtMost(tensors, Float.intBitsToFloat((int) mid), blocks, scratch);
      if (c >= k) {
        b = mid;
        countB = c;
      } else {
        a = mid;
        countA = c;
      }
    }
    if (b - a == 1) {
      return Float.intBitsToFloat((int) b);
    }
    float[] between = gather(tensors, a, b, Math.toIntExact(countB - countA), blocks, scratch);
    return select(between, (int) (k - countA - 1));
  }

  /**
   * The element of rank {@code r} (0-based) of {@code v}, reordering it: quickselect with a
   * three-way partition, so runs of equal values (zeros, ties) cost one step.
   */
  static float select(float[] v, int r) {
    int lo = 0;
    int hi = v.length - 1;
    java.util.SplittableRandom random = new java.util.SplittableRandom(v.length);
    while (true) {
      if (lo == hi) {
        return v[lo];
      }
      float pivot = v[lo + random.nextInt(hi - lo + 1)];
      // v[lo..lt) < pivot, v[lt..i) == pivot, v(gt..hi] > pivot
      int lt = lo;
      int gt = hi;
      int i = lo;
      while (i <= gt) {
        float x = v[i];
        if (x < pivot) {
          v[i++] = v[lt];
          v[lt++] = x;
        } else if (x > pivot) {
          v[i] = v[gt];
          v[gt--] = x;
        } else {
          i++;
        }
      }
      if (r < lt) {
        hi = lt - 1;
      } else if (r > gt) {
        lo = gt + 1;
      } else {
        return pivot;
      }
    }
  }

  /** Number of elements with |w| <= t, compared in float32. */
  static long countAtMost(
      Map<String, NDArray> tensors, float t, RowBlocks blocks, NDManager scratch) {
    long[] count = {0};
    for (NDArray w : tensors.values()) {
      blocks.forEach(
          w, scratch, (w32, scope) -> count[0] += w32.abs().lte(t).countNonzero().getLong());
    }
    return count[0];
  }

  /** All |w| of the tensors (n in total) on the host, after checking they are finite. */
  private static float[] hostAbs(
      Map<String, NDArray> tensors, int n, RowBlocks blocks, NDManager scratch) {
    float[] out = new float[n];
    int[] filled = {0};
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      int start = filled[0];
      blocks.forEach(
          e.getValue(),
          scratch,
          (w32, scope) -> {
            float[] values = w32.abs().toFloatArray();
            System.arraycopy(values, 0, out, filled[0], values.length);
            filled[0] += values.length;
          });
      float max = 0f;
      for (int i = start; i < filled[0]; i++) {
        max = Math.max(max, out[i]); // NaN propagates
      }
      checkFinite(e.getKey(), max);
    }
    return out;
  }

  private static void checkFinite(String tensor, float maxAbs) {
    if (!Float.isFinite(maxAbs)) {
      throw new QdmException(
          "tensor '"
              + tensor
              + "' holds NaN or infinite values; "
              + "magnitude pruning needs finite weights");
    }
  }

  /** The {@code n} values |w| in (bits a, bits b] (a = -1: from 0), to the host. */
  private static float[] gather(
      Map<String, NDArray> tensors, long a, long b, int n, RowBlocks blocks, NDManager scratch) {
    float lower = Float.intBitsToFloat((int) Math.max(a, 0));
    float upper = Float.intBitsToFloat((int) b);
    float[] out = new float[n];
    int[] filled = {0};
    for (NDArray w : tensors.values()) {
      blocks.forEach(
          w,
          scratch,
          (w32, scope) -> {
            NDArray abs = w32.abs();
            NDArray in = abs.lte(upper);
            if (a >= 0) {
              in = in.logicalAnd(abs.gt(lower));
            }
            float[] values = abs.booleanMask(in).toFloatArray();
            System.arraycopy(values, 0, out, filled[0], values.length);
            filled[0] += values.length;
          });
    }
    if (filled[0] != n) {
      throw new IllegalStateException("gathered " + filled[0] + " values, counted " + n);
    }
    return out;
  }
}
