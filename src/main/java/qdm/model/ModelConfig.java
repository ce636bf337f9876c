package qdm.model;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The architecture-independent view of a model's {@code config.json}: what the runtime, the SAE
 * checks and compression need to know without knowing the architecture.
 */
public interface ModelConfig {

  /** Hugging Face {@code model_type}, e.g. {@code gpt_neox} or {@code gemma2}. */
  String modelType();

  /** Number of decoder blocks. */
  int numLayers();

  /** Width of the residual stream ({@code d_model}). */
  int hiddenSize();

  /** Number of attention (query) heads. */
  int numHeads();

  /** Vocabulary size. */
  int vocabSize();

  /** Width of the concatenated attention heads, n_heads * d_head ({@code hook_z}). */
  default int attentionWidth() {
    return hiddenSize();
  }

  /** True if attention and MLP both read the block's input (GPT-NeoX's parallel residual). */
  default boolean parallelResidual() {
    return false;
  }

  /** Every tensor the checkpoint must provide, with Hugging Face names and shapes. */
  List<TensorSpec> tensors();

  /**
   * Tensors that real checkpoints of this architecture carry but the forward pass does not read
   * (buffers some transformers versions saved: causal masks, RoPE frequencies). Any other tensor no
   * {@link #tensors() spec} names is an error, since it means the checkpoint is not the model
   * {@code config.json} describes (say, a 4-layer file with {@code num_hidden_layers = 3}).
   */
  default List<Pattern> ignoredTensors() {
    return List.of();
  }
}
