package qdm.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import qdm.model.Architecture;
import qdm.model.TensorSpec;
import qdm.model.TlFolds;
import qdm.model.Weights;

/**
 * Llama-family weights as TransformerLens v2's {@code from_pretrained} processes them. An RMSNorm
 * model: {@code fold_layer_norm} folds only the norms' weights (input norm into q/k/v,
 * post-attention norm into gate/up, final norm into the head, which thereby stops being tied),
 * nothing is centred over d_model ({@code center_writing_weights} needs LayerNorm), the head loses
 * its mean over the vocabulary ({@code center_unembed}: no soft-cap here), and the value biases
 * (Qwen2 has them) fold into the attention output's bias, which becomes a tensor of its own ({@code
 * b_O += W_O b_V}, each kv head's bias repeated for its query heads).
 */
final class LlamaTlProcessing {
  private LlamaTlProcessing() {}

  static Architecture.Processed<LlamaConfig> apply(LlamaConfig c, Weights raw) {
    LlamaConfig out =
        c.qkvBias() && !c.outputBias()
            ? new LlamaConfig(
                c.modelType(),
                c.vocabSize(),
                c.hiddenSize(),
                c.numLayers(),
                c.numHeads(),
                c.numKvHeads(),
                c.headDim(),
                c.intermediateSize(),
                c.rmsNormEps(),
                c.ropeTheta(),
                c.ropeScaling(),
                true,
                true,
                c.mlpBias(),
                c.slidingWindow(),
                c.tiedEmbeddings(),
                c.activation())
            : c;
    Map<String, TensorSpec> specs = new LinkedHashMap<>();
    for (TensorSpec s : out.tensors()) {
      specs.put(s.name(), s);
    }
    return new Architecture.Processed<>(out, raw.replaceWith(w -> process(c, w), specs));
  }

  private static Map<String, NDArray> process(LlamaConfig c, Weights w) {
    DataType dtype = w.get(LlamaConfig.EMBED).getDataType();
    Map<String, NDArray> t = TlFolds.float32(w);
    for (int i = 0; i < c.numLayers(); i++) {
      String p = LlamaConfig.layer(i);
      String a = p + "self_attn.";
      String m = p + "mlp.";
      TlFolds.foldRms(
          t,
          p + "input_layernorm.weight",
          false,
          a + "q_proj.weight",
          a + "k_proj.weight",
          a + "v_proj.weight");
      TlFolds.foldRms(
          t,
          p + "post_attention_layernorm.weight",
          false,
          m + "gate_proj.weight",
          m + "up_proj.weight");
    }
    TlFolds.foldRms(t, LlamaConfig.FINAL_NORM, false, LlamaConfig.LM_HEAD);
    t.put(LlamaConfig.LM_HEAD, TlFolds.centreUnembed(t.get(LlamaConfig.LM_HEAD)));
    if (c.qkvBias()) {
      foldValueBiases(c, t);
    }
    return TlFolds.cast(t, dtype);
  }

  /** {@code b_O += W_O b_V} with b_V repeated over each kv head's query heads; b_V := 0. */
  private static void foldValueBiases(LlamaConfig c, Map<String, NDArray> t) {
    int group = c.numHeads() / c.numKvHeads();
    int dh = c.headDim();
    for (int i = 0; i < c.numLayers(); i++) {
      String a = LlamaConfig.layer(i) + "self_attn.";
      NDArray vBias = t.get(a + "v_proj.bias");
      float[] kv = vBias.toFloatArray();
      float[] repeated = new float[c.numHeads() * dh];
      for (int h = 0; h < c.numHeads(); h++) {
        System.arraycopy(kv, (h / group) * dh, repeated, h * dh, dh);
      }
      NDArray o = t.get(a + "o_proj.weight");
      NDArray bV = o.getManager().create(repeated);
      NDArray bO =
          t.containsKey(a + "o_proj.bias")
              ? t.get(a + "o_proj.bias")
              : o.getManager().zeros(new Shape(c.hiddenSize()));
      t.put(a + "o_proj.bias", bO.add(TlFolds.times(o, bV)));
      t.put(a + "v_proj.bias", vBias.zerosLike());
    }
  }
}
