package qdm.model.gemma2;

import qdm.io.gguf.GgufNames;
import qdm.io.gguf.GgufNames.Undo;
import qdm.model.gemma.GemmaGguf;

/**
 * Gemma-2 in GGUF: Gemma's mapping with four norms per block, {@code attn_norm} (input), {@code
 * post_attention_norm}, {@code ffn_norm} (here the pre-feedforward norm) and {@code post_ffw_norm},
 * each stored as {@code w + 1} like every Gemma norm.
 */
final class Gemma2Gguf {
  private Gemma2Gguf() {}

  static GgufNames names(Gemma2Config config) {
    Undo plusOne = new Undo.PlusOne();
    String l = "model.layers.%d.";
    return GemmaGguf.names(config.modelType(), "gemma2")
        .block("post_attention_norm.weight", l + "post_attention_layernorm.weight", plusOne)
        .block("ffn_norm.weight", l + "pre_feedforward_layernorm.weight", plusOne)
        .block("post_ffw_norm.weight", l + "post_feedforward_layernorm.weight", plusOne);
  }
}
