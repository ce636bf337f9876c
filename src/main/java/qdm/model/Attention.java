package qdm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Scaled dot-product attention shared by the architectures, with the masks it needs. */
public final class Attention {
  /** The additive mask value transformers uses: {@code torch.finfo(float32).min}. */
  static final float MASKED = -Float.MAX_VALUE;

  private Attention() {}

  /**
   * An additive mask [T, T]: query i may attend key j iff {@code j <= i} and, when {@code window >
   * 0}, {@code i - window < j} (a sliding window of {@code window} keys including itself).
   */
  public static NDArray mask(NDManager manager, int seqLen, int window) {
    float[] m = new float[seqLen * seqLen];
    for (int i = 0; i < seqLen; i++) {
      for (int j = 0; j < seqLen; j++) {
        boolean visible = j <= i && (window <= 0 || i - window < j);
        m[i * seqLen + j] = visible ? 0f : MASKED;
      }
    }
    return manager.create(m, new Shape(seqLen, seqLen));
  }

  /**
   * Attention of q [B, H, T, D] over k, v [B, KV, T, D], with H a multiple of KV (grouped-query:
   * query head h reads key/value head h / (H / KV)). Returns [B, T, H * D].
   *
   * <p>Sequences are processed in groups whose score arrays [b, H, T, T] stay near {@link
   * #SCORE_BYTES}, each group's intermediates freed before the next (see {@link Transformer} why
   * large fresh arrays are slow); the result is the same as one pass over the batch.
   *
   * @param scale multiplies the scores
   * @param softCap if positive, scores become {@code softCap * tanh(scores / softCap)} (Gemma-2)
   * @param mask additive float32 mask [T, T], added after soft-capping
   */
  public static NDArray attend(
      NDArray q, NDArray k, NDArray v, NDArray mask, float scale, float softCap) {
    return attend(q, k, v, mask, scale, softCap, SCORE_BYTES);
  }

  /** Score bytes per group of sequences: two sequences of 8 heads x 512 x 512. */
  static final long SCORE_BYTES = 16L << 20;

  /** {@link #attend} with score arrays of about {@code budgetBytes} per group of sequences. */
  static NDArray attend(
      NDArray q, NDArray k, NDArray v, NDArray mask, float scale, float softCap, long budgetBytes) {
    Shape qs = q.getShape();
    long batch = qs.get(0);
    long perSequence = 4L * qs.get(1) * qs.get(2) * qs.get(2);
    long group = Math.max(1, budgetBytes / perSequence);
    if (group >= batch) {
      return attendAll(q, k, v, mask, scale, softCap);
    }
    NDManager parent = q.getManager();
    NDList parts = new NDList();
    for (long b = 0; b < batch; b += group) {
      NDIndex rows = new NDIndex("{}:{}", b, Math.min(batch, b + group));
      try (NDManager scratch = parent.newSubManager()) {
        NDArray qb = q.get(rows);
        NDArray kb = k.get(rows);
        NDArray vb = v.get(rows);
        qb.attach(scratch); // the group's intermediates follow q into the scratch manager
        kb.attach(scratch);
        vb.attach(scratch);
        NDArray context = attendAll(qb, kb, vb, mask, scale, softCap);
        context.attach(parent);
        parts.add(context);
      }
    }
    NDArray out = NDArrays.concat(parts, 0);
    parts.close();
    return out;
  }

  private static NDArray attendAll(
      NDArray q, NDArray k, NDArray v, NDArray mask, float scale, float softCap) {
    Shape qs = q.getShape();
    long batch = qs.get(0);
    long heads = qs.get(1);
    long seq = qs.get(2);
    long dim = qs.get(3);
    long kvHeads = k.getShape().get(1);
    long group = heads / kvHeads;
    if (group > 1) {
      // [B, KV, G, T, D] against [B, KV, 1, T, D]: broadcasting shares each kv head in its group
      q = q.reshape(batch, kvHeads, group, seq, dim);
      k = k.expandDims(2);
      v = v.expandDims(2);
    }
    // in-place steps below act on fresh arrays only: scores and its successors
    NDArray scores = q.matMul(k.swapAxes(-1, -2));
    scores.muli(Ops.scalar(scores, scale));
    DataType dtype = scores.getDataType();
    if (dtype != DataType.FLOAT32) {
      scores = scores.toType(DataType.FLOAT32, false); // softmax in float32, as transformers
    }
    if (softCap > 0) {
      NDArray cap = Ops.scalar(scores, softCap);
      scores = scores.divi(cap).tanh().muli(cap);
    }
    NDArray probs = scores.addi(mask).softmax(-1);
    if (dtype != DataType.FLOAT32) {
      probs = probs.toType(dtype, false);
    }
    NDArray context = probs.matMul(v).reshape(batch, heads, seq, dim);
    return context.swapAxes(1, 2).reshape(batch, seq, heads * dim);
  }

  /** [B, T, H * D] to [B, H, T, D]. */
  public static NDArray splitHeads(NDArray x, long heads, long dim) {
    Shape s = x.getShape();
    return x.reshape(s.get(0), s.get(1), heads, dim).swapAxes(1, 2);
  }
}
