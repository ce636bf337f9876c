package qdm.model.gpt2;

import qdm.io.gguf.GgufNames;

/**
 * GPT-2 in GGUF: llama.cpp's converter transposes the Conv1D weights to [out, in] (the store says
 * so through {@code storedAsLinear}, so {@link Gpt2Checkpoint} leaves them) and writes the tied
 * head again as {@code output}, possibly quantized differently from {@code token_embd}: it loads as
 * {@code lm_head.weight}, which is what llama.cpp computes the logits with.
 */
final class Gpt2Gguf {
  private Gpt2Gguf() {}

  static GgufNames names(Gpt2Config config) {
    String l = "transformer.h.%d.";
    GgufNames n =
        GgufNames.of(config.modelType(), "gpt2")
            .global("token_embd.weight", "transformer.wte.weight")
            .global("position_embd.weight", "transformer.wpe.weight")
            .global("output_norm.weight", "transformer.ln_f.weight")
            .global("output_norm.bias", "transformer.ln_f.bias")
            .global("output.weight", "lm_head.weight");
    String[][] block = {
      {"attn_norm", "ln_1"},
      {"attn_qkv", "attn.c_attn"},
      {"attn_output", "attn.c_proj"},
      {"ffn_norm", "ln_2"},
      {"ffn_up", "mlp.c_fc"},
      {"ffn_down", "mlp.c_proj"}
    };
    for (String[] b : block) {
      n.block(b[0] + ".weight", l + b[1] + ".weight").block(b[0] + ".bias", l + b[1] + ".bias");
    }
    return n;
  }
}
