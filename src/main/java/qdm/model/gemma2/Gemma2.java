package qdm.model.gemma2;

import java.util.List;
import qdm.model.Architecture;
import qdm.model.JsonFields;
import qdm.model.Nonlinearity;
import qdm.model.Transformer;
import qdm.model.Weights;

/** The {@code gemma2} architecture. */
public final class Gemma2 implements Architecture<Gemma2Config> {

  @Override
  public List<String> modelTypes() {
    return List.of("gemma2");
  }

  @Override
  public Gemma2Config parseConfig(JsonFields json) {
    int heads = json.integer("num_attention_heads");
    int kvHeads = json.integer("num_key_value_heads", heads);
    if (kvHeads <= 0 || heads % kvHeads != 0) {
      throw json.invalid(
          "num_key_value_heads", "a positive divisor of num_attention_heads " + heads);
    }
    int hidden = json.integer("hidden_size");
    int headDim = json.integer("head_dim", hidden / heads);
    String act = json.string("hidden_activation", json.string("hidden_act", "gelu_pytorch_tanh"));
    Nonlinearity activation = Nonlinearity.fromHf(act);
    if (activation == null) {
      throw json.invalid("hidden_activation", "gelu_pytorch_tanh or gelu");
    }
    if (json.has("rope_scaling")) {
      throw json.invalid("rope_scaling", "null: RoPE scaling is not supported");
    }
    return new Gemma2Config(
        json.integer("vocab_size"),
        hidden,
        json.integer("num_hidden_layers"),
        heads,
        kvHeads,
        headDim,
        json.integer("intermediate_size"),
        (float) json.number("rms_norm_eps", 1e-6),
        json.number("rope_theta", 10000),
        json.number("query_pre_attn_scalar", headDim),
        (float) json.number("attn_logit_softcapping", 0),
        (float) json.number("final_logit_softcapping", 0),
        json.integer("sliding_window", 4096),
        activation);
  }

  @Override
  public Processed<Gemma2Config> transformerLens(Gemma2Config config, Weights weights) {
    return Gemma2TlProcessing.apply(config, weights);
  }

  @Override
  public java.util.Optional<qdm.io.gguf.GgufNames> gguf(Gemma2Config config) {
    return java.util.Optional.of(Gemma2Gguf.names(config));
  }

  @Override
  public Transformer build(Gemma2Config config, Weights weights) {
    return new Gemma2Model(config, weights);
  }
}
