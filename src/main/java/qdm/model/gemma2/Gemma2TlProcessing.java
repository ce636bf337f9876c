package qdm.model.gemma2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.Map;
import qdm.model.Architecture;
import qdm.model.TensorSpec;
import qdm.model.Weights;

/**
 * Gemma-2 weights as TransformerLens v2's {@code HookedTransformer.from_pretrained} processes them.
 * Gemma-2 uses RMSNorm, so TL folds only the norms' weights: the input norm's {@code 1 + w}
 * (Gemma's RMSNorm scales by one plus its weight) into the columns of the Q, K and V projections,
 * the pre-feedforward norm's into the gate and up projections, and the final norm's into the
 * unembedding, which thereby stops being tied to the embedding. The norms that follow attention and
 * the MLP are not folded (nothing linear comes after them). TL centres no writing weights (not a
 * LayerNorm model) and centres the unembedding only when the logits are not soft-capped ({@code
 * final_logit_softcapping}: a soft-cap does not commute with a shift); Gemma has no biases, so
 * there are no value biases to fold. The folded norms become identities (weight 0, since the norm
 * scales by 1 + w). Computed in float32.
 */
final class Gemma2TlProcessing {
  private Gemma2TlProcessing() {}

  static Architecture.Processed<Gemma2Config> apply(Gemma2Config c, Weights raw) {
    Map<String, TensorSpec> specs = new LinkedHashMap<>();
    for (TensorSpec s : c.tensors()) {
      specs.put(s.name(), s);
    }
    return new Architecture.Processed<>(c, raw.replaceWith(w -> process(c, w), specs));
  }

  private static Map<String, NDArray> process(Gemma2Config c, Weights w) {
    DataType dtype = w.get(Gemma2Config.EMBED).getDataType();
    Map<String, NDArray> t = new LinkedHashMap<>();
    for (String name : w.names()) {
      t.put(name, w.get(name));
    }
    long d = c.hiddenSize();
    for (int i = 0; i < c.numLayers(); i++) {
      String p = Gemma2Config.layer(i);
      fold(
          t,
          p + "input_layernorm.weight",
          d,
          dtype,
          p + "self_attn.q_proj.weight",
          p + "self_attn.k_proj.weight",
          p + "self_attn.v_proj.weight");
      fold(
          t,
          p + "pre_feedforward_layernorm.weight",
          d,
          dtype,
          p + "mlp.gate_proj.weight",
          p + "mlp.up_proj.weight");
    }
    fold(t, Gemma2Config.FINAL_NORM, d, dtype, Gemma2Config.LM_HEAD);
    if (c.finalSoftCap() == 0f) {
      NDArray head = f32(t.get(Gemma2Config.LM_HEAD));
      t.put(Gemma2Config.LM_HEAD, head.sub(head.mean(new int[] {0}, true)).toType(dtype, false));
    }
    return t;
  }

  /** Scales the columns of every {@code readers} weight by 1 + w of {@code norm}; w := 0. */
  private static void fold(
      Map<String, NDArray> t, String norm, long d, DataType dtype, String... readers) {
    NDArray scale = f32(t.get(norm)).add(1f).reshape(1, d);
    for (String r : readers) {
      t.put(r, f32(t.get(r)).mul(scale).toType(dtype, false));
    }
    t.put(norm, t.get(norm).zerosLike());
  }

  private static NDArray f32(NDArray a) {
    return a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
  }
}
