package qdm.model.llama;

import java.util.List;
import java.util.OptionalInt;
import qdm.model.Architecture;
import qdm.model.JsonFields;
import qdm.model.Nonlinearity;
import qdm.model.RopeScaling;
import qdm.model.Transformer;
import qdm.model.Weights;

/**
 * The {@code llama} architecture (Llama 2, 3, 3.1, 3.2 and their fine-tunes). {@link #parse} reads
 * what the family shares; Qwen2 and Mistral override {@link #parseConfig} to set their biases and
 * window.
 */
public class Llama implements Architecture<LlamaConfig> {

  @Override
  public List<String> modelTypes() {
    return List.of("llama");
  }

  @Override
  public LlamaConfig parseConfig(JsonFields json) {
    boolean attentionBias = json.bool("attention_bias", false);
    if (json.integer("pretraining_tp", 1) != 1) {
      // transformers slices the projections then; the result is the same up to rounding
      // order, which QDM does not reproduce
      throw json.invalid(
          "pretraining_tp", "1 (the slicing of pretraining_tp > 1 is not " + "reproduced)");
    }
    return parse(json, "llama", attentionBias, attentionBias, 0);
  }

  /** The family's fields, with the variant's biases and sliding window. */
  protected static LlamaConfig parse(
      JsonFields json, String type, boolean qkvBias, boolean outputBias, int slidingWindow) {
    int hidden = json.integer("hidden_size");
    int heads = json.integer("num_attention_heads");
    if (heads <= 0) {
      throw json.invalid("num_attention_heads", "a positive number");
    }
    int kvHeads = json.integer("num_key_value_heads", heads);
    if (kvHeads <= 0 || heads % kvHeads != 0) {
      throw json.invalid(
          "num_key_value_heads", "a positive divisor of num_attention_heads " + heads);
    }
    int headDim = json.integer("head_dim", hidden / heads);
    if (headDim <= 0 || headDim % 2 != 0) {
      throw json.invalid("head_dim", "a positive even number");
    }
    String act = json.string("hidden_act", "silu");
    Nonlinearity activation = Nonlinearity.fromHf(act);
    if (activation == null) {
      throw json.invalid("hidden_act", "silu, gelu or gelu_pytorch_tanh");
    }
    if (json.has("partial_rotary_factor") && json.number("partial_rotary_factor") != 1.0) {
      throw json.invalid("partial_rotary_factor", "1 (rotary over the whole head)");
    }
    return new LlamaConfig(
        type,
        json.integer("vocab_size"),
        hidden,
        json.integer("num_hidden_layers"),
        heads,
        kvHeads,
        headDim,
        json.integer("intermediate_size"),
        (float) json.number("rms_norm_eps", 1e-6),
        json.number("rope_theta", 10000),
        RopeScaling.parse(json),
        qkvBias,
        outputBias,
        json.bool("mlp_bias", false),
        slidingWindow,
        json.bool("tie_word_embeddings", false),
        activation);
  }

  @Override
  public OptionalInt contextLength(JsonFields json) {
    // dynamic NTK scaling exists to run past max_position_embeddings
    return RopeScaling.parse(json).dependsOnLength()
        ? OptionalInt.empty()
        : Architecture.super.contextLength(json);
  }

  @Override
  public Processed<LlamaConfig> transformerLens(LlamaConfig config, Weights weights) {
    return LlamaTlProcessing.apply(config, weights);
  }

  /** The GGUF architectures ({@code general.architecture}) a checkpoint of this model may carry. */
  protected String[] ggufArchitectures() {
    return new String[] {"llama"};
  }

  /**
   * Whether llama.cpp's converter permuted the Q and K rows of this architecture's checkpoints
   * (interleaved RoPE pairs), so reading them back undoes it.
   */
  protected boolean ggufPermutesQk() {
    return true;
  }

  @Override
  public java.util.Optional<qdm.io.gguf.GgufNames> gguf(LlamaConfig config) {
    return java.util.Optional.of(LlamaGguf.names(config, ggufPermutesQk(), ggufArchitectures()));
  }

  @Override
  public Transformer build(LlamaConfig config, Weights weights) {
    return new LlamaModel(config, weights);
  }
}
