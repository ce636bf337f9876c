package qdm.model.gemma2;

import qdm.io.gguf.GgufNames;
import qdm.io.gguf.GgufNames.Undo;

/**
 * Gemma-2 in GGUF: its four norms per block are {@code attn_norm} (input),
 * {@code post_attention_norm}, {@code ffn_norm} (pre-feedforward) and {@code post_ffw_norm},
 * each stored as {@code w + 1} like every Gemma norm; no rotary permutation.
 */
final class Gemma2Gguf {
  private Gemma2Gguf() {}

  static GgufNames names(Gemma2Config config) {
    Undo plusOne = new Undo.PlusOne();
    String l = "model.layers.%d.";
    return GgufNames.of(config.modelType(), "gemma2")
        .global("token_embd.weight", "model.embed_tokens.weight")
        .global("output_norm.weight", "model.norm.weight", plusOne)
        .global("output.weight", "lm_head.weight")
        .block("attn_norm.weight", l + "input_layernorm.weight", plusOne)
        .block("attn_q.weight", l + "self_attn.q_proj.weight")
        .block("attn_k.weight", l + "self_attn.k_proj.weight")
        .block("attn_v.weight", l + "self_attn.v_proj.weight")
        .block("attn_output.weight", l + "self_attn.o_proj.weight")
        .block("post_attention_norm.weight", l + "post_attention_layernorm.weight", plusOne)
        .block("ffn_norm.weight", l + "pre_feedforward_layernorm.weight", plusOne)
        .block("post_ffw_norm.weight", l + "post_feedforward_layernorm.weight", plusOne)
        .block("ffn_gate.weight", l + "mlp.gate_proj.weight")
        .block("ffn_up.weight", l + "mlp.up_proj.weight")
        .block("ffn_down.weight", l + "mlp.down_proj.weight");
  }
}
