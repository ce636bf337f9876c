package qdm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The operations of TransformerLens's weight processing written on Hugging Face tensors (a linear
 * weight [out, in], so "the columns" are the inputs): what each architecture's processing class
 * composes in TL's order. Everything in float32.
 */
public final class TlFolds {
  private TlFolds() {}

  /** The tensors of {@code w} as float32, by name (a tied tensor appears under both names). */
  public static Map<String, NDArray> float32(Weights w) {
    Map<String, NDArray> t = new LinkedHashMap<>();
    for (String name : w.names()) {
      NDArray a = w.get(name);
      t.put(name, a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false));
    }
    return t;
  }

  /** Every tensor cast to {@code dtype}. */
  public static Map<String, NDArray> cast(Map<String, NDArray> t, DataType dtype) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    t.forEach((k, v) -> out.put(k, v.getDataType() == dtype ? v : v.toType(dtype, false)));
    return out;
  }

  /** {@code W v} for W [rows, cols] and v [cols]: the bias a norm's bias becomes. */
  public static NDArray times(NDArray w, NDArray v) {
    return w.matMul(v.reshape(-1, 1)).reshape(-1);
  }

  /** Each column of W [out, in] scaled by {@code scale} [in] (a norm's weight folded in). */
  public static NDArray scaleColumns(NDArray w, NDArray scale) {
    return w.mul(scale.reshape(1, -1));
  }

  /** Each row minus its mean: a weight reading a normalized stream, centred over d_model. */
  public static NDArray centreRows(NDArray w) {
    return w.sub(w.mean(new int[] {1}, true));
  }

  /** Each column minus its mean: a weight [d_model, in] writing to the residual, centred. */
  public static NDArray centreColumns(NDArray w) {
    return w.sub(w.mean(new int[] {0}, true));
  }

  /** A vector minus its mean. */
  public static NDArray centre(NDArray b) {
    return b.sub(b.mean());
  }

  /**
   * RMSNorm folding (TL's {@code fold_layer_norm(fold_biases=False, center_weights=False)}): the
   * columns of every {@code readers} weight scaled by the norm's scale, the norm made the identity.
   * {@code onePlus}: Gemma's norms scale by 1 + w, and their identity weight is 0.
   */
  public static void foldRms(
      Map<String, NDArray> t, String norm, boolean onePlus, String... readers) {
    NDArray w = t.get(norm);
    NDArray scale = onePlus ? w.add(1f) : w;
    for (String r : readers) {
      t.put(r, scaleColumns(t.get(r), scale));
    }
    t.put(norm, onePlus ? w.zerosLike() : w.onesLike());
  }

  /**
   * TL's {@code center_unembed} on an HF head [vocab, d_model]: each d_model column loses its mean
   * over the vocabulary (log-probabilities do not change).
   */
  public static NDArray centreUnembed(NDArray head) {
    return centreColumns(head);
  }
}
