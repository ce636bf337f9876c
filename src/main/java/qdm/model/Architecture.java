package qdm.model;

import qdm.QdmException;

/**
 * One model family: how to read its {@code config.json} and how to build its forward pass from
 * loaded weights. Registered in {@link Architectures} under its Hugging Face {@code model_type}.
 *
 * @param <C> the family's configuration
 */
public interface Architecture<C extends ModelConfig> {

  /** The {@code model_type} values this architecture handles. */
  java.util.List<String> modelTypes();

  /** Parses and validates {@code config.json}; errors name the file and key. */
  C parseConfig(JsonFields json);

  /**
   * The longest sequence the model takes, from {@code config.json}: by default its {@code
   * max_position_embeddings}, the context it was trained for (rotary models compute further
   * positions, but what they produce there is not the model users audit). Empty when the config
   * states no limit.
   */
  default java.util.OptionalInt contextLength(JsonFields json) {
    int n = json.integer("max_position_embeddings", 0);
    return n > 0 ? java.util.OptionalInt.of(n) : java.util.OptionalInt.empty();
  }

  /**
   * The weights (and configuration) TransformerLens's {@code from_pretrained} computes with: see
   * {@link Processing#TRANSFORMERLENS}. {@code weights} is consumed (closed); the result lives
   * under the same parent manager.
   */
  default Processed<C> transformerLens(C config, Weights weights) {
    throw new QdmException(
        "processing transformerlens is not defined for model_type '" + config.modelType() + "'");
  }

  /** A configuration with the weights that go with it. */
  record Processed<C extends ModelConfig>(C config, Weights weights) {}

  /**
   * The checkpoint as this architecture's specs name and lay out its tensors: by default the file
   * as it is; GPT-2 adds its missing name prefix and transposes its Conv1D weights.
   */
  default qdm.io.TensorStore checkpoint(qdm.io.TensorStore raw) {
    return raw;
  }

  /**
   * How llama.cpp names and lays out this architecture's tensors in GGUF files, mapped back to the
   * Hugging Face names {@link #checkpoint} reads; empty if QDM has no mapping.
   */
  default java.util.Optional<qdm.io.gguf.GgufNames> gguf(C config) {
    return java.util.Optional.empty();
  }

  /** The forward pass over weights laid out as {@link ModelConfig#tensors()} says. */
  Transformer build(C config, Weights weights);
}
