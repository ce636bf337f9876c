package qdm.model.llama;

import qdm.io.gguf.GgufNames;
import qdm.io.gguf.GgufNames.Undo;

/**
 * Llama, Mistral and Qwen2 in GGUF. llama.cpp's converter permutes the rows of Llama's and
 * Mistral's q_proj and k_proj (weights and biases) into interleaved rotary pairs; Qwen2 is stored
 * as transformers has it. Llama 3's {@code rope_freqs} is computed from config.json.
 */
public final class LlamaGguf {
  private LlamaGguf() {}

  /** The mapping for {@code config}; {@code permuted} for the Llama-converted families. */
  public static GgufNames names(LlamaConfig config, boolean permuted, String... architectures) {
    Undo q = permuted ? new Undo.RopePermuted(config.numHeads()) : new Undo.None();
    Undo k = permuted ? new Undo.RopePermuted(config.numKvHeads()) : new Undo.None();
    String l = "model.layers.%d.";
    return GgufNames.of(config.modelType(), architectures)
        .global("token_embd.weight", LlamaConfig.EMBED)
        .global("output_norm.weight", LlamaConfig.FINAL_NORM)
        .global("output.weight", LlamaConfig.LM_HEAD)
        .ignore("rope_freqs.weight")
        .block("attn_norm.weight", l + "input_layernorm.weight")
        .block("attn_q.weight", l + "self_attn.q_proj.weight", q)
        .block("attn_q.bias", l + "self_attn.q_proj.bias", q)
        .block("attn_k.weight", l + "self_attn.k_proj.weight", k)
        .block("attn_k.bias", l + "self_attn.k_proj.bias", k)
        .block("attn_v.weight", l + "self_attn.v_proj.weight")
        .block("attn_v.bias", l + "self_attn.v_proj.bias")
        .block("attn_output.weight", l + "self_attn.o_proj.weight")
        .block("attn_output.bias", l + "self_attn.o_proj.bias")
        .block("ffn_norm.weight", l + "post_attention_layernorm.weight")
        .block("ffn_gate.weight", l + "mlp.gate_proj.weight")
        .block("ffn_gate.bias", l + "mlp.gate_proj.bias")
        .block("ffn_up.weight", l + "mlp.up_proj.weight")
        .block("ffn_up.bias", l + "mlp.up_proj.bias")
        .block("ffn_down.weight", l + "mlp.down_proj.weight")
        .block("ffn_down.bias", l + "mlp.down_proj.bias");
  }
}
