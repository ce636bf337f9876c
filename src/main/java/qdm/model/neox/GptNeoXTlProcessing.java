package qdm.model.neox;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.Map;
import qdm.model.Architecture;
import qdm.model.TensorRole;
import qdm.model.TensorSpec;
import qdm.model.TlLayout;
import qdm.model.Weights;

/**
 * GPT-NeoX weights as TransformerLens v2's {@code HookedTransformer.from_pretrained} processes them
 * ({@code load_and_process_state_dict} with its defaults), written on the Hugging Face tensors. In
 * TL's order:
 *
 * <ol>
 *   <li>{@code fold_layer_norm}: each LayerNorm's bias goes into the next layer's bias through its
 *       weight ({@code b += W b_ln}), its weight into the columns ({@code W *= w_ln}), and the
 *       weights reading the normalized stream are centred over d_model (each output row's mean over
 *       its inputs removed); the final LayerNorm goes into the unembedding, whose folded bias
 *       {@code b_U} is a new tensor, {@code embed_out.bias};
 *   <li>{@code center_writing_weights}: the embedding, attention output and MLP output weights and
 *       biases lose their mean over d_model, so nothing is written along the all-ones direction
 *       that every LayerNorm removes;
 *   <li>{@code center_unembed}: the unembedding loses its mean over the vocabulary (log-probs do
 *       not change, logits do);
 *   <li>{@code fold_value_biases}: {@code b_O += W_O b_V}, {@code b_V = 0} (attention rows sum to
 *       one, so the value bias is a constant).
 * </ol>
 *
 * The norms become identities (weight 1, bias 0). A tied unembedding becomes a tensor of its own
 * (it is scaled and centred differently from the embedding). Computed in float32.
 */
final class GptNeoXTlProcessing {
  /** The folded unembedding bias TL calls {@code unembed.b_U}: not in HF's GPT-NeoX. */
  static final String LM_HEAD_BIAS = "embed_out.bias";

  private GptNeoXTlProcessing() {}

  static Architecture.Processed<GptNeoXConfig> apply(GptNeoXConfig c, Weights raw) {
    // folding ln1.b creates QKV biases: a model without them gets them
    GptNeoXConfig out =
        c.attentionBias()
            ? c
            : new GptNeoXConfig(
                c.vocabSize(),
                c.hiddenSize(),
                c.numLayers(),
                c.numHeads(),
                c.intermediateSize(),
                c.rotaryDims(),
                c.ropeTheta(),
                c.layerNormEps(),
                c.parallelResidual(),
                true,
                c.tiedEmbeddings(),
                c.activation());
    Map<String, TensorSpec> specs = new LinkedHashMap<>();
    for (TensorSpec s : out.tensors()) {
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
    Weights processed = raw.replaceWith(w -> process(c, w), specs);
    return new Architecture.Processed<>(out, processed);
  }

  private static Map<String, NDArray> process(GptNeoXConfig c, Weights w) {
    DataType dtype = w.get(GptNeoXConfig.EMBED).getDataType();
    Map<String, NDArray> t = new LinkedHashMap<>();
    for (String name : w.names()) {
      t.put(name, f32(w.get(name)));
    }
    long d = c.hiddenSize();
    long heads = c.numHeads();
    long headDim = c.headDim();
    for (int i = 0; i < c.numLayers(); i++) {
      String p = GptNeoXConfig.layer(i);
      String qkvW = p + "attention.query_key_value.weight";
      String qkvB = p + "attention.query_key_value.bias";
      String outW = p + "attention.dense.weight";
      String outB = p + "attention.dense.bias";
      String upW = p + "mlp.dense_h_to_4h.weight";
      String upB = p + "mlp.dense_h_to_4h.bias";
      String ln1 = p + "input_layernorm.";
      String ln2 = p + "post_attention_layernorm.";
      NDArray zeros3d = t.get(qkvW).getManager().zeros(new ai.djl.ndarray.types.Shape(3 * d));
      t.putIfAbsent(qkvB, zeros3d);
      t.putIfAbsent(outB, t.get(qkvW).getManager().zeros(new ai.djl.ndarray.types.Shape(d)));
      // fold ln1 into Q, K, V: biases first (they use the unscaled weights), then weights
      t.put(qkvB, t.get(qkvB).add(times(t.get(qkvW), t.get(ln1 + "bias"))));
      t.put(qkvW, centreRows(t.get(qkvW).mul(t.get(ln1 + "weight").reshape(1, d))));
      // fold ln2 into the MLP's input projection
      t.put(upB, t.get(upB).add(times(t.get(upW), t.get(ln2 + "bias"))));
      t.put(upW, centreRows(t.get(upW).mul(t.get(ln2 + "weight").reshape(1, d))));
      identity(t, ln1, d);
      identity(t, ln2, d);
    }
    // fold the final LayerNorm into the unembedding
    String fin = GptNeoXConfig.FINAL_NORM;
    NDArray head = t.get(GptNeoXConfig.LM_HEAD);
    NDArray headBias = times(head, t.get(fin + "bias"));
    head = centreRows(head.mul(t.get(fin + "weight").reshape(1, d)));
    identity(t, fin, d);

    // center_writing_weights: everything that writes to the residual stream, over d_model
    t.put(GptNeoXConfig.EMBED, centreRows(t.get(GptNeoXConfig.EMBED)));
    for (int i = 0; i < c.numLayers(); i++) {
      String p = GptNeoXConfig.layer(i);
      for (String writer : new String[] {"attention.dense", "mlp.dense_4h_to_h"}) {
        NDArray wt = t.get(p + writer + ".weight"); // [d_model, in]: centre each column
        t.put(p + writer + ".weight", wt.sub(wt.mean(new int[] {0}, true)));
        NDArray b = t.get(p + writer + ".bias");
        t.put(p + writer + ".bias", b.sub(b.mean()));
      }
    }
    // center_unembed: each d_model column of the unembedding loses its mean over the vocabulary
    head = head.sub(head.mean(new int[] {0}, true));
    headBias = headBias.sub(headBias.mean());
    t.put(GptNeoXConfig.LM_HEAD, head);
    t.put(LM_HEAD_BIAS, headBias);

    // fold_value_biases: b_O += W_O b_V per layer; b_V = 0. QKV rows are (head, q|k|v, d_head)
    for (int i = 0; i < c.numLayers(); i++) {
      String p = GptNeoXConfig.layer(i);
      NDArray qkvB = t.get(p + "attention.query_key_value.bias").reshape(heads, 3, headDim);
      NDArray bV = qkvB.get(new NDIndex(":, 2, :")).reshape(heads * headDim);
      String outB = p + "attention.dense.bias";
      t.put(outB, t.get(outB).add(times(t.get(p + "attention.dense.weight"), bV)));
      NDArray keepQk = qkvB.getManager().ones(new ai.djl.ndarray.types.Shape(1, 3, 1));
      keepQk.set(new NDIndex(":, 2, :"), 0f);
      t.put(p + "attention.query_key_value.bias", qkvB.mul(keepQk).reshape(3 * d));
    }
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : t.entrySet()) {
      out.put(e.getKey(), e.getValue().toType(dtype, false));
    }
    return out;
  }

  private static NDArray f32(NDArray a) {
    return a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
  }

  /** {@code W v} for W [rows, cols] and v [cols]: the bias a LayerNorm bias becomes. */
  private static NDArray times(NDArray w, NDArray v) {
    return w.matMul(v.reshape(-1, 1)).reshape(-1);
  }

  /** Each row minus its mean (a weight reading the normalized stream, centred over d_model). */
  private static NDArray centreRows(NDArray w) {
    return w.sub(w.mean(new int[] {1}, true));
  }

  private static void identity(Map<String, NDArray> t, String norm, long d) {
    NDArray like = t.get(norm + "weight");
    t.put(norm + "weight", like.onesLike());
    t.put(norm + "bias", like.zerosLike());
  }
}
