package qdm.model;

import java.util.List;

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

  /** Vocabulary size. */
  int vocabSize();

  /** Every tensor the checkpoint must provide, with Hugging Face names and shapes. */
  List<TensorSpec> tensors();
}
