package qdm.model.neox;

import qdm.io.gguf.GgufNames;
import qdm.io.gguf.GgufNames.Undo;

/**
 * GPT-NeoX (Pythia) in GGUF: llama.cpp's converter reorders the fused query_key_value rows (weight
 * and bias) from transformers' per-head [q, k, v] interleaving to [Q; K; V].
 */
final class GptNeoXGguf {
  private GptNeoXGguf() {}

  static GgufNames names(GptNeoXConfig config) {
    Undo qkv = new Undo.NeoxQkv(config.numHeads());
    String l = "gpt_neox.layers.%d.";
    GgufNames n =
        GgufNames.of(config.modelType(), "gptneox")
            .global("token_embd.weight", "gpt_neox.embed_in.weight")
            .global("output_norm.weight", "gpt_neox.final_layer_norm.weight")
            .global("output_norm.bias", "gpt_neox.final_layer_norm.bias")
            .global("output.weight", "embed_out.weight")
            .block("attn_qkv.weight", l + "attention.query_key_value.weight", qkv)
            .block("attn_qkv.bias", l + "attention.query_key_value.bias", qkv);
    String[][] block = {
      {"attn_norm", "input_layernorm"},
      {"attn_output", "attention.dense"},
      {"ffn_norm", "post_attention_layernorm"},
      {"ffn_up", "mlp.dense_h_to_4h"},
      {"ffn_down", "mlp.dense_4h_to_h"}
    };
    for (String[] b : block) {
      n.block(b[0] + ".weight", l + b[1] + ".weight").block(b[0] + ".bias", l + b[1] + ".bias");
    }
    return n;
  }
}
