package qdm.model.gemma;

import qdm.io.gguf.GgufNames;
import qdm.io.gguf.GgufNames.Undo;

/**
 * Gemma in GGUF: Llama's tensor names, no rotary permutation, and every RMSNorm weight stored as
 * {@code w + 1} (llama.cpp multiplies by the stored weight; transformers by {@code 1 + w}). The
 * head is the embedding. Gemma-2 builds on this mapping.
 */
public final class GemmaGguf {
  private GemmaGguf() {}

  static GgufNames names(GemmaConfig config) {
    return names(config.modelType(), "gemma");
  }

  /** The mapping shared by the Gemma family, for {@code modelType} in GGUF {@code arch}. */
  public static GgufNames names(String modelType, String arch) {
    Undo plusOne = new Undo.PlusOne();
    String l = "model.layers.%d.";
    return GgufNames.of(modelType, arch)
        .global("token_embd.weight", "model.embed_tokens.weight")
        .global("output_norm.weight", "model.norm.weight", plusOne)
        .global("output.weight", "lm_head.weight")
        .block("attn_norm.weight", l + "input_layernorm.weight", plusOne)
        .block("attn_q.weight", l + "self_attn.q_proj.weight")
        .block("attn_k.weight", l + "self_attn.k_proj.weight")
        .block("attn_v.weight", l + "self_attn.v_proj.weight")
        .block("attn_output.weight", l + "self_attn.o_proj.weight")
        .block("ffn_norm.weight", l + "post_attention_layernorm.weight", plusOne)
        .block("ffn_gate.weight", l + "mlp.gate_proj.weight")
        .block("ffn_up.weight", l + "mlp.up_proj.weight")
        .block("ffn_down.weight", l + "mlp.down_proj.weight");
  }
}
