package qdm.model.gemma;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import qdm.model.Architecture;
import qdm.model.JsonFields;
import qdm.model.Nonlinearity;
import qdm.model.TensorSpec;
import qdm.model.TlFolds;
import qdm.model.Transformer;
import qdm.model.Weights;

/**
 * The {@code gemma} architecture (Gemma 1: 2B, 7B and their fine-tunes). The MLP activation is
 * {@code hidden_activation} when the config sets it, else the tanh GELU, as transformers (v4.45)
 * decides, whatever {@code hidden_act} says.
 */
public final class Gemma implements Architecture<GemmaConfig> {

  @Override
  public List<String> modelTypes() {
    return List.of("gemma");
  }

  @Override
  public GemmaConfig parseConfig(JsonFields json) {
    int heads = json.integer("num_attention_heads");
    int kvHeads = json.integer("num_key_value_heads", heads);
    if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
      throw json.invalid(
          "num_key_value_heads", "a positive divisor of num_attention_heads " + heads);
    }
    int hidden = json.integer("hidden_size");
    int headDim = json.integer("head_dim", hidden / heads);
    String act = json.string("hidden_activation", "gelu_pytorch_tanh");
    Nonlinearity activation = Nonlinearity.fromHf(act);
    if (activation == null) {
      throw json.invalid("hidden_activation", "gelu_pytorch_tanh or gelu");
    }
    if (json.has("rope_scaling")) {
      throw json.invalid("rope_scaling", "null: RoPE scaling is not supported for Gemma");
    }
    return new GemmaConfig(
        json.integer("vocab_size"),
        hidden,
        json.integer("num_hidden_layers"),
        heads,
        kvHeads,
        headDim,
        json.integer("intermediate_size"),
        (float) json.number("rms_norm_eps", 1e-6),
        json.number("rope_theta", 10000),
        activation);
  }

  /**
   * TransformerLens processing of Gemma 1: an RMSNorm model whose norms scale by 1 + w, so {@code
   * fold_layer_norm} folds 1 + w of the input norm into q/k/v, of the post-attention norm into
   * gate/up, of the final norm into the head (untying it), then {@code center_unembed} (Gemma 1 has
   * no logit soft-cap); no writing weights are centred (not a LayerNorm model) and there are no
   * biases to fold.
   */
  @Override
  public Processed<GemmaConfig> transformerLens(GemmaConfig c, Weights raw) {
    Map<String, TensorSpec> specs = new LinkedHashMap<>();
    for (TensorSpec s : c.tensors()) {
      specs.put(s.name(), s);
    }
    return new Processed<>(
        c,
        raw.replaceWith(
            w -> {
              DataType dtype = w.get(GemmaConfig.EMBED).getDataType();
              Map<String, NDArray> t = TlFolds.float32(w);
              for (int i = 0; i < c.numLayers(); i++) {
                String p = GemmaConfig.layer(i);
                TlFolds.foldRms(
                    t,
                    p + "input_layernorm.weight",
                    true,
                    p + "self_attn.q_proj.weight",
                    p + "self_attn.k_proj.weight",
                    p + "self_attn.v_proj.weight");
                TlFolds.foldRms(
                    t,
                    p + "post_attention_layernorm.weight",
                    true,
                    p + "mlp.gate_proj.weight",
                    p + "mlp.up_proj.weight");
              }
              TlFolds.foldRms(t, GemmaConfig.FINAL_NORM, true, GemmaConfig.LM_HEAD);
              t.put(GemmaConfig.LM_HEAD, TlFolds.centreUnembed(t.get(GemmaConfig.LM_HEAD)));
              return TlFolds.cast(t, dtype);
            },
            specs));
  }

  @Override
  public java.util.Optional<qdm.io.gguf.GgufNames> gguf(GemmaConfig config) {
    return java.util.Optional.of(GemmaGguf.names(config));
  }

  @Override
  public Transformer build(GemmaConfig config, Weights weights) {
    return new GemmaModel(config, weights);
  }
}
