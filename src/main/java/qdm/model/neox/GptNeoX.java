package qdm.model.neox;

import java.util.List;
import qdm.model.Architecture;
import qdm.model.JsonFields;
import qdm.model.Nonlinearity;
import qdm.model.Transformer;
import qdm.model.Weights;

/** The {@code gpt_neox} architecture (Pythia and its relatives). */
public final class GptNeoX implements Architecture<GptNeoXConfig> {

  @Override
  public List<String> modelTypes() {
    return List.of("gpt_neox");
  }

  @Override
  public GptNeoXConfig parseConfig(JsonFields json) {
    int hidden = json.integer("hidden_size");
    int heads = json.integer("num_attention_heads");
    if (heads <= 0 || hidden % heads != 0) {
      throw json.invalid("num_attention_heads", "a positive divisor of hidden_size " + hidden);
    }
    double rotaryPct = json.number("rotary_pct", json.number("partial_rotary_factor", 0.25));
    int headDim = hidden / heads;
    int rotaryDims = (int) (headDim * rotaryPct);
    if (rotaryPct < 0 || rotaryPct > 1 || rotaryDims % 2 != 0) {
      throw json.invalid(
          "rotary_pct",
          "a fraction in [0, 1] giving an even number of rotary "
              + "dims per head (head dim "
              + headDim
              + ")");
    }
    String act = json.string("hidden_act", "gelu");
    Nonlinearity activation = Nonlinearity.fromHf(act);
    if (activation == null) {
      throw json.invalid("hidden_act", "gelu, gelu_new or gelu_pytorch_tanh");
    }
    if (json.has("rope_scaling")) {
      throw json.invalid("rope_scaling", "null: RoPE scaling is not supported");
    }
    return new GptNeoXConfig(
        json.integer("vocab_size"),
        hidden,
        json.integer("num_hidden_layers"),
        heads,
        json.integer("intermediate_size"),
        rotaryDims,
        json.number("rotary_emb_base", json.number("rope_theta", 10000)),
        (float) json.number("layer_norm_eps", 1e-5),
        json.bool("use_parallel_residual", true),
        json.bool("attention_bias", true),
        json.bool("tie_word_embeddings", false),
        activation);
  }

  @Override
  public Processed<GptNeoXConfig> transformerLens(GptNeoXConfig config, Weights weights) {
    return GptNeoXTlProcessing.apply(config, weights);
  }

  @Override
  public java.util.Optional<qdm.io.gguf.GgufNames> gguf(GptNeoXConfig config) {
    return java.util.Optional.of(GptNeoXGguf.names(config));
  }

  @Override
  public Transformer build(GptNeoXConfig config, Weights weights) {
    return new GptNeoXModel(config, weights);
  }
}
