package qdm.model.gpt2;

import java.util.List;
import qdm.io.TensorStore;
import qdm.model.Architecture;
import qdm.model.JsonFields;
import qdm.model.Nonlinearity;
import qdm.model.Transformer;
import qdm.model.Weights;

/** The {@code gpt2} architecture (GPT-2 small to XL, DistilGPT-2 and fine-tunes). */
public final class Gpt2 implements Architecture<Gpt2Config> {

  @Override
  public List<String> modelTypes() {
    return List.of("gpt2");
  }

  @Override
  public Gpt2Config parseConfig(JsonFields json) {
    int hidden = json.integer("n_embd");
    int heads = json.integer("n_head");
    if (heads <= 0 || hidden % heads != 0) {
      throw json.invalid("n_head", "a positive divisor of n_embd " + hidden);
    }
    String act = json.string("activation_function", "gelu_new");
    Nonlinearity activation = Nonlinearity.fromHf(act);
    if (activation == null) {
      throw json.invalid("activation_function", "gelu_new, gelu or gelu_pytorch_tanh");
    }
    int inner = json.has("n_inner") ? json.integer("n_inner") : 4 * hidden;
    return new Gpt2Config(
        json.integer("vocab_size"),
        hidden,
        json.integer("n_layer"),
        heads,
        inner,
        json.integer("n_positions", 1024),
        (float) json.number("layer_norm_epsilon", 1e-5),
        activation,
        json.bool("scale_attn_weights", true),
        json.bool("scale_attn_by_inverse_layer_idx", false),
        json.bool("tie_word_embeddings", true));
  }

  @Override
  public java.util.OptionalInt contextLength(JsonFields json) {
    // the learned position embedding has n_positions rows: a hard limit
    return java.util.OptionalInt.of(json.integer("n_positions", 1024));
  }

  @Override
  public TensorStore checkpoint(TensorStore raw) {
    return new Gpt2Checkpoint(raw);
  }

  @Override
  public Processed<Gpt2Config> transformerLens(Gpt2Config config, Weights weights) {
    return Gpt2TlProcessing.apply(config, weights);
  }

  @Override
  public java.util.Optional<qdm.io.gguf.GgufNames> gguf(Gpt2Config config) {
    return java.util.Optional.of(Gpt2Gguf.names(config));
  }

  @Override
  public Transformer build(Gpt2Config config, Weights weights) {
    return new Gpt2Model(config, weights);
  }
}
