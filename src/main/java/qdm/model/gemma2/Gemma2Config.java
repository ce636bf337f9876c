package qdm.model.gemma2;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import qdm.model.Activation;
import qdm.model.ModelConfig;
import qdm.model.TensorRole;
import qdm.model.TensorSpec;
import qdm.model.TlLayout;

/**
 * Gemma-2 hyper-parameters from {@code config.json} and the checkpoint layout they imply. The
 * Hugging Face tensor names of this architecture appear here and nowhere else.
 *
 * @param queryPreAttnScalar scores are scaled by {@code queryPreAttnScalar^-0.5}
 * @param attnSoftCap attention-logit soft-cap ({@code 0} when the config has none)
 * @param finalSoftCap final-logit soft-cap ({@code 0} when none)
 * @param slidingWindow keys visible to a query in the sliding-window (even) layers
 */
public record Gemma2Config(
    int vocabSize,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int intermediateSize,
    float rmsNormEps,
    double ropeTheta,
    double queryPreAttnScalar,
    float attnSoftCap,
    float finalSoftCap,
    int slidingWindow,
    Activation activation)
    implements ModelConfig {

  static final String EMBED = "model.embed_tokens.weight";
  static final String FINAL_NORM = "model.norm.weight";
  static final String LM_HEAD = "lm_head.weight";

  @Override
  public String modelType() {
    return "gemma2";
  }

  /** Prefix of the tensors of block {@code i}. */
  static String layer(int i) {
    return "model.layers." + i + ".";
  }

  /** Transformers v4.45: layers with an even index use the sliding window. */
  boolean isSliding(int layer) {
    return layer % 2 == 0;
  }

  /** RoPE inverse frequencies, which some exports save as a buffer. */
  private static final List<Pattern> BUFFERS =
      List.of(
          Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq"),
          Pattern.compile("model\\.rotary_emb\\.inv_freq"));

  @Override
  public int attentionWidth() {
    return numHeads() * headDim();
  }

  @Override
  public List<Pattern> ignoredTensors() {
    return BUFFERS;
  }

  @Override
  public List<TensorSpec> tensors() {
    long d = hiddenSize;
    long q = (long) numHeads * headDim;
    long kv = (long) numKvHeads * headDim;
    long ff = intermediateSize;
    List<TensorSpec> t = new ArrayList<>();
    long h = headDim;
    t.add(
        TensorSpec.of(EMBED, TensorRole.EMBEDDING, vocabSize, d)
            .withTl(TlLayout.columns("embed.W_E", vocabSize, d)));
    for (int i = 0; i < numLayers; i++) {
      String p = layer(i);
      String tl = "blocks." + i + ".";
      // rows (head, d_head): TL's W_Q [n_heads, d_model, d_head] and (GQA) _W_K, _W_V
      // [n_kv_heads, d_model, d_head]: one TL channel per d_head index across the heads
      t.add(
          TensorSpec.of(p + "self_attn.q_proj.weight", TensorRole.DECODER_LINEAR, q, d)
              .withTl(perHeadDim(tl + "attn.W_Q", numHeads, h, d)));
      t.add(
          TensorSpec.of(p + "self_attn.k_proj.weight", TensorRole.DECODER_LINEAR, kv, d)
              .withTl(perHeadDim(tl + "attn._W_K", numKvHeads, h, d)));
      t.add(
          TensorSpec.of(p + "self_attn.v_proj.weight", TensorRole.DECODER_LINEAR, kv, d)
              .withTl(perHeadDim(tl + "attn._W_V", numKvHeads, h, d)));
      // W_O [n_heads, d_head, d_model], W_gate / W_in [d_model, d_mlp], W_out [d_mlp, d_model]:
      // the last axis is the HF rows
      t.add(
          TensorSpec.of(p + "self_attn.o_proj.weight", TensorRole.DECODER_LINEAR, d, q)
              .withTl(TlLayout.rows(tl + "attn.W_O", new long[] {d, q})));
      t.add(
          TensorSpec.of(p + "mlp.gate_proj.weight", TensorRole.DECODER_LINEAR, ff, d)
              .withTl(TlLayout.rows(tl + "mlp.W_gate", new long[] {ff, d})));
      t.add(
          TensorSpec.of(p + "mlp.up_proj.weight", TensorRole.DECODER_LINEAR, ff, d)
              .withTl(TlLayout.rows(tl + "mlp.W_in", new long[] {ff, d})));
      t.add(
          TensorSpec.of(p + "mlp.down_proj.weight", TensorRole.DECODER_LINEAR, d, ff)
              .withTl(TlLayout.rows(tl + "mlp.W_out", new long[] {d, ff})));
      for (String norm :
          List.of(
              "input_layernorm",
              "post_attention_layernorm",
              "pre_feedforward_layernorm",
              "post_feedforward_layernorm")) {
        t.add(TensorSpec.of(p + norm + ".weight", TensorRole.NORM, d));
      }
    }
    t.add(TensorSpec.of(FINAL_NORM, TensorRole.NORM, d));
    t.add(
        TensorSpec.tied(LM_HEAD, EMBED, TensorRole.LM_HEAD, vocabSize, d)
            .withTl(TlLayout.rows("unembed.W_U", new long[] {vocabSize, d})));
    return t;
  }

  /** A projection [heads * d_head, d_model] as TL's [heads, d_model, d_head]. */
  private static TlLayout perHeadDim(String name, long heads, long headDim, long d) {
    return new TlLayout(List.of(name), new long[] {heads, headDim, d}, new int[] {1, 0, 2}, 1);
  }
}
