package qdm.compress;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import qdm.model.TensorRole;
import qdm.model.Weights;

/**
 * The machinery every compression shares: picks the target tensors by role, rewrites each one block
 * of rows at a time in float32 (casting float16 weights up and the result back), derives the new
 * {@link Weights} and measures what changed for the {@link CompressionReport}.
 */
final class WeightRewrite {

  /** A rewrite of one float32 block [rows, rowLength] into a float32 block of the same shape. */
  interface Rows {
    NDArray apply(NDArray w32);

    /**
     * True if the rewrite needs the whole tensor in one block (its groups span rows, as the
     * TransformerLens convention's do for a fused or per-head tensor).
     */
    default boolean wholeTensor() {
      return false;
    }
  }

  /** A rewrite that sees the whole tensor as one float32 block [rows, rowLength]. */
  static Rows whole(Rows rows) {
    return new Rows() {
      @Override
      public NDArray apply(NDArray w32) {
        return rows.apply(w32);
      }

      @Override
      public boolean wholeTensor() {
        return true;
      }
    };
  }

  private WeightRewrite() {}

  /**
   * The distinct target tensors of {@code base}, keyed by the first name under which each is
   * targeted, in checkpoint order. A tied tensor appears once.
   */
  static Map<String, NDArray> targets(Weights base, Set<TensorRole> roles) {
    Map<String, NDArray> targets = new LinkedHashMap<>();
    Map<NDArray, Boolean> seen = new IdentityHashMap<>();
    for (String name : base.names()) {
      NDArray a = base.get(name);
      if (roles.contains(base.role(name)) && seen.put(a, Boolean.TRUE) == null) {
        targets.put(name, a);
      }
    }
    return targets;
  }

  /**
   * Rewrites every target of {@code base}. {@code plan} is called once per distinct target tensor
   * with its name and the whole base tensor (in its own dtype), and returns how to rewrite its
   * blocks, or null to leave it unchanged (it is then shared, but still counted in the report).
   */
  static Compressed apply(
      Weights base,
      Set<TensorRole> roles,
      String compression,
      BiFunction<String, NDArray, Rows> plan,
      RowBlocks blocks) {
    Map<String, NDArray> targets = targets(base, roles);
    Map<NDArray, String> targetName = new IdentityHashMap<>();
    targets.forEach((name, a) -> targetName.put(a, name));
    Map<NDArray, NDArray> done = new IdentityHashMap<>();
    Stats stats = new Stats();
    Weights derived =
        base.derive(
            (name, child) -> {
              NDArray src = base.get(name);
              if (!targetName.containsKey(src)) {
                return null;
              }
              if (!done.containsKey(src)) {
                done.put(
                    src, rewrite(src, plan.apply(targetName.get(src), src), blocks, child, stats));
              }
              return done.get(src);
            });
    return new Compressed(
        derived,
        new CompressionReport(
            compression,
            List.copyOf(targets.keySet()),
            stats.parameters,
            stats.zeros,
            stats.parameters == 0 ? 0 : stats.absErrorSum / stats.parameters,
            stats.maxAbsError,
            stats.squaredNorm == 0 ? 0 : Math.sqrt(stats.squaredErrorSum / stats.squaredNorm)));
  }

  /** Rewrites one tensor under {@code child}; null when {@code rows} is null (unchanged). */
  private static NDArray rewrite(
      NDArray src, Rows rows, RowBlocks blocks, NDManager child, Stats stats) {
    stats.parameters += src.size();
    if (rows == null) {
      blocks.forEach(
          src,
          child,
          (w32, scope) -> {
            stats.zeros += countZeros(w32);
            stats.squaredNorm += RowBlocks.sum(w32.square());
          });
      return null;
    }
    DataType dtype = src.getDataType();
    RowBlocks walk = rows.wholeTensor() ? RowBlocks.WHOLE : blocks;
    try (NDManager parts = child.newSubManager()) {
      List<NDArray> done = new ArrayList<>();
      walk.forEach(
          src,
          child,
          (w32, scope) -> {
            NDArray out = rows.apply(w32).toType(dtype, false);
            // Measure the weights as the model will see them: after the cast back to dtype.
            NDArray seen = out.toType(DataType.FLOAT32, false);
            stats.zeros += countZeros(seen);
            NDArray err = seen.sub(w32).abs();
            stats.maxAbsError = Math.max(stats.maxAbsError, err.max().getFloat());
            stats.absErrorSum += RowBlocks.sum(err);
            stats.squaredErrorSum += RowBlocks.sum(err.square());
            stats.squaredNorm += RowBlocks.sum(w32.square());
            out.attach(parts);
            done.add(out);
          });
      NDArray whole = done.size() == 1 ? done.get(0) : NDArrays.concat(new NDList(done), 0);
      NDArray shaped = whole.reshape(src.getShape());
      shaped.attach(child);
      return shaped;
    }
  }

  private static long countZeros(NDArray w32) {
    return w32.eq(0f).countNonzero().getLong();
  }

  /** Running totals over the target tensors. */
  private static final class Stats {
    long parameters;
    long zeros;
    double absErrorSum;
    double maxAbsError;
    double squaredErrorSum;
    double squaredNorm;
  }
}
