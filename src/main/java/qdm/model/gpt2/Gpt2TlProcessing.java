package qdm.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.Map;
import qdm.model.Architecture;
import qdm.model.TensorRole;
import qdm.model.TensorSpec;
import qdm.model.TlFolds;
import qdm.model.TlLayout;
import qdm.model.Weights;

/**
 * GPT-2 weights as TransformerLens v2's {@code from_pretrained} processes them (the processing
 * {@code gpt2-small-res-jb} was trained under): {@code fold_layer_norm} (each LayerNorm's bias
 * through the next weight into its bias, its weight into the columns, reading weights centred over
 * d_model; the final norm into the head, whose folded bias becomes {@code lm_head.bias}), {@code
 * center_writing_weights} (token and position embeddings, attention and MLP output weights and
 * biases centred over d_model), {@code center_unembed}, {@code fold_value_biases}. The norms become
 * identities and the tied head a tensor of its own. On the held [out, in] layout ({@link
 * Gpt2Checkpoint}), in float32.
 */
final class Gpt2TlProcessing {
  /** The folded unembedding bias TL calls {@code unembed.b_U}: not in HF's GPT-2. */
  static final String LM_HEAD_BIAS = "lm_head.bias";

  private Gpt2TlProcessing() {}

  static Architecture.Processed<Gpt2Config> apply(Gpt2Config c, Weights raw) {
    Map<String, TensorSpec> specs = new LinkedHashMap<>();
    for (TensorSpec s : c.tensors()) {
      specs.put(s.name(), s);
    }
    long vocab = c.vocabSize();
    specs.put(
        LM_HEAD_BIAS,
        new TensorSpec(
            LM_HEAD_BIAS,
            new long[] {vocab},
            TensorRole.BIAS,
            java.util.Optional.empty(),
            TlLayout.rows("unembed.b_U", new long[] {vocab})));
    return new Architecture.Processed<>(c, raw.replaceWith(w -> process(c, w), specs));
  }

  private static Map<String, NDArray> process(Gpt2Config c, Weights w) {
    DataType dtype = w.get(Gpt2Config.WTE).getDataType();
    Map<String, NDArray> t = TlFolds.float32(w);
    long d = c.hiddenSize();
    for (int i = 0; i < c.numLayers(); i++) {
      String p = Gpt2Config.layer(i);
      foldLayerNorm(t, p + "ln_1.", p + "attn.c_attn.");
      foldLayerNorm(t, p + "ln_2.", p + "mlp.c_fc.");
    }
    String fin = Gpt2Config.FINAL_NORM;
    NDArray head = t.get(Gpt2Config.LM_HEAD);
    NDArray headBias = TlFolds.times(head, t.get(fin + "bias"));
    head = TlFolds.centreRows(TlFolds.scaleColumns(head, t.get(fin + "weight")));
    identity(t, fin);
    // center_writing_weights
    t.put(Gpt2Config.WTE, TlFolds.centreRows(t.get(Gpt2Config.WTE)));
    t.put(Gpt2Config.WPE, TlFolds.centreRows(t.get(Gpt2Config.WPE)));
    for (int i = 0; i < c.numLayers(); i++) {
      String p = Gpt2Config.layer(i);
      for (String writer : new String[] {"attn.c_proj.", "mlp.c_proj."}) {
        t.put(p + writer + "weight", TlFolds.centreColumns(t.get(p + writer + "weight")));
        t.put(p + writer + "bias", TlFolds.centre(t.get(p + writer + "bias")));
      }
    }
    // center_unembed
    t.put(Gpt2Config.LM_HEAD, TlFolds.centreUnembed(head));
    t.put(LM_HEAD_BIAS, TlFolds.centre(headBias));
    // fold_value_biases: the V third of c_attn's bias [Q | K | V] through c_proj
    for (int i = 0; i < c.numLayers(); i++) {
      String p = Gpt2Config.layer(i);
      NDArray qkvBias = t.get(p + "attn.c_attn.bias");
      NDArray bV = qkvBias.get(new NDIndex("{}:", 2 * d));
      String outB = p + "attn.c_proj.bias";
      t.put(outB, t.get(outB).add(TlFolds.times(t.get(p + "attn.c_proj.weight"), bV)));
      NDArray keep = qkvBias.onesLike();
      keep.set(new NDIndex("{}:", 2 * d), 0f);
      t.put(p + "attn.c_attn.bias", qkvBias.mul(keep));
    }
    return TlFolds.cast(t, dtype);
  }

  /** A LayerNorm folded into the linear layer {@code reader} (TL's fold_ln with centring). */
  private static void foldLayerNorm(Map<String, NDArray> t, String norm, String reader) {
    NDArray weight = t.get(reader + "weight");
    t.put(reader + "bias", t.get(reader + "bias").add(TlFolds.times(weight, t.get(norm + "bias"))));
    t.put(
        reader + "weight",
        TlFolds.centreRows(TlFolds.scaleColumns(weight, t.get(norm + "weight"))));
    identity(t, norm);
  }

  private static void identity(Map<String, NDArray> t, String norm) {
    NDArray like = t.get(norm + "weight");
    t.put(norm + "weight", like.onesLike());
    t.put(norm + "bias", like.zerosLike());
  }
}
