package qdm.model;

import java.util.List;

/**
 * The tensor table the Llama-style decoders share (Hugging Face names under {@code model.}, the
 * TransformerLens parameters each holds): embedding, the attention and gated-MLP projections of a
 * block, and the head. Each architecture's config adds its norms where its checkpoints have them.
 */
public final class GatedDecoderTensors {
  public static final String EMBED = "model.embed_tokens.weight";
  public static final String FINAL_NORM = "model.norm.weight";
  public static final String LM_HEAD = "lm_head.weight";

  private GatedDecoderTensors() {}

  /** Prefix of the tensors of block {@code i}. */
  public static String layer(int i) {
    return "model.layers." + i + ".";
  }

  /** The embedding [vocab, d], TL's {@code embed.W_E}. */
  public static void embedding(List<TensorSpec> t, long vocab, long d) {
    t.add(
        TensorSpec.of(EMBED, TensorRole.EMBEDDING, vocab, d)
            .withTl(TlLayout.columns("embed.W_E", vocab, d)));
  }

  /** q, k, v (with biases if {@code qkvBias}) of block {@code i}. */
  public static void qkv(
      List<TensorSpec> t, int i, long heads, long kvHeads, long headDim, long d, boolean qkvBias) {
    String p = layer(i) + "self_attn.";
    String tl = "blocks." + i + ".";
    long q = heads * headDim;
    long kv = kvHeads * headDim;
    // rows (head, d_head): TL's W_Q [n_heads, d_model, d_head] and (GQA) _W_K, _W_V
    // [n_kv_heads, d_model, d_head]: one TL channel per d_head index across the heads
    t.add(
        TensorSpec.of(p + "q_proj.weight", TensorRole.DECODER_LINEAR, q, d)
            .withTl(perHeadDim(tl + "attn.W_Q", heads, headDim, d)));
    t.add(
        TensorSpec.of(p + "k_proj.weight", TensorRole.DECODER_LINEAR, kv, d)
            .withTl(perHeadDim(tl + "attn._W_K", kvHeads, headDim, d)));
    t.add(
        TensorSpec.of(p + "v_proj.weight", TensorRole.DECODER_LINEAR, kv, d)
            .withTl(perHeadDim(tl + "attn._W_V", kvHeads, headDim, d)));
    if (qkvBias) {
      t.add(TensorSpec.of(p + "q_proj.bias", TensorRole.BIAS, q));
      t.add(TensorSpec.of(p + "k_proj.bias", TensorRole.BIAS, kv));
      t.add(TensorSpec.of(p + "v_proj.bias", TensorRole.BIAS, kv));
    }
  }

  /** The output projection of block {@code i}: TL's W_O [n_heads, d_head, d_model] by rows. */
  public static void output(List<TensorSpec> t, int i, long q, long d, boolean bias) {
    String p = layer(i) + "self_attn.";
    t.add(
        TensorSpec.of(p + "o_proj.weight", TensorRole.DECODER_LINEAR, d, q)
            .withTl(TlLayout.rows("blocks." + i + ".attn.W_O", new long[] {d, q})));
    if (bias) {
      t.add(TensorSpec.of(p + "o_proj.bias", TensorRole.BIAS, d));
    }
  }

  /** gate, up and down of block {@code i}: TL's W_gate, W_in, W_out, each by HF rows. */
  public static void mlp(List<TensorSpec> t, int i, long ff, long d, boolean bias) {
    String p = layer(i) + "mlp.";
    String tl = "blocks." + i + ".mlp.";
    t.add(
        TensorSpec.of(p + "gate_proj.weight", TensorRole.DECODER_LINEAR, ff, d)
            .withTl(TlLayout.rows(tl + "W_gate", new long[] {ff, d})));
    t.add(
        TensorSpec.of(p + "up_proj.weight", TensorRole.DECODER_LINEAR, ff, d)
            .withTl(TlLayout.rows(tl + "W_in", new long[] {ff, d})));
    t.add(
        TensorSpec.of(p + "down_proj.weight", TensorRole.DECODER_LINEAR, d, ff)
            .withTl(TlLayout.rows(tl + "W_out", new long[] {d, ff})));
    if (bias) {
      t.add(TensorSpec.of(p + "gate_proj.bias", TensorRole.BIAS, ff));
      t.add(TensorSpec.of(p + "up_proj.bias", TensorRole.BIAS, ff));
      t.add(TensorSpec.of(p + "down_proj.bias", TensorRole.BIAS, d));
    }
  }

  /** A norm weight [d] of block {@code i} ({@code input_layernorm}...). */
  public static void norm(List<TensorSpec> t, int i, String name, long d) {
    t.add(TensorSpec.of(layer(i) + name + ".weight", TensorRole.NORM, d));
  }

  /** The final norm and the head, TL's {@code unembed.W_U}; a tied head is the embedding. */
  public static void head(List<TensorSpec> t, long vocab, long d, boolean tied) {
    t.add(TensorSpec.of(FINAL_NORM, TensorRole.NORM, d));
    TlLayout unembed = TlLayout.rows("unembed.W_U", new long[] {vocab, d});
    t.add(
        (tied
                ? TensorSpec.tied(LM_HEAD, EMBED, TensorRole.LM_HEAD, vocab, d)
                : TensorSpec.of(LM_HEAD, TensorRole.LM_HEAD, vocab, d))
            .withTl(unembed));
  }

  /** A projection [heads * d_head, d_model] as TL's [heads, d_model, d_head]. */
  public static TlLayout perHeadDim(String name, long heads, long headDim, long d) {
    return new TlLayout(List.of(name), new long[] {heads, headDim, d}, new int[] {1, 0, 2}, 1);
  }
}
