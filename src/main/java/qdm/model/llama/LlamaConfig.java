package qdm.model.llama;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import qdm.model.Activation;
import qdm.model.ModelConfig;
import qdm.model.RopeScaling;
import qdm.model.TensorRole;
import qdm.model.TensorSpec;
import qdm.model.TlLayout;

/**
 * The Llama family's hyper-parameters from {@code config.json} ({@code llama}, {@code qwen2},
 * {@code mistral}: one decoder, told apart by their biases and attention window), and the
 * checkpoint layout they imply. The Hugging Face tensor names of the family appear here and nowhere
 * else.
 *
 * @param modelType the {@code model_type} read
 * @param qkvBias q, k and v projections have biases (Llama's {@code attention_bias}; always in
 *     Qwen2)
 * @param outputBias the attention output projection has a bias (Llama's {@code attention_bias})
 * @param mlpBias gate, up and down projections have biases ({@code mlp_bias})
 * @param slidingWindow keys visible to a query in every layer, 0 for all (Mistral)
 * @param tiedEmbeddings {@code lm_head} falls back to the embedding
 */
public record LlamaConfig(
    String modelType,
    int vocabSize,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int intermediateSize,
    float rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    boolean qkvBias,
    boolean outputBias,
    boolean mlpBias,
    int slidingWindow,
    boolean tiedEmbeddings,
    Activation activation)
    implements ModelConfig {

  static final String EMBED = "model.embed_tokens.weight";
  static final String FINAL_NORM = "model.norm.weight";
  static final String LM_HEAD = "lm_head.weight";

  private static final List<Pattern> BUFFERS =
      List.of(
          Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq"),
          Pattern.compile("model\\.rotary_emb\\.inv_freq"));

  /** Prefix of the tensors of block {@code i}. */
  static String layer(int i) {
    return "model.layers." + i + ".";
  }

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
    long h = headDim;
    long q = (long) numHeads * h;
    long kv = (long) numKvHeads * h;
    long ff = intermediateSize;
    List<TensorSpec> t = new ArrayList<>();
    t.add(
        TensorSpec.of(EMBED, TensorRole.EMBEDDING, vocabSize, d)
            .withTl(TlLayout.columns("embed.W_E", vocabSize, d)));
    for (int i = 0; i < numLayers; i++) {
      String p = layer(i);
      String tl = "blocks." + i + ".";
      t.add(TensorSpec.of(p + "input_layernorm.weight", TensorRole.NORM, d));
      // TL's W_Q [n_heads, d_model, d_head] and (GQA) _W_K, _W_V [n_kv_heads, d_model, d_head]
      t.add(
          TensorSpec.of(p + "self_attn.q_proj.weight", TensorRole.DECODER_LINEAR, q, d)
              .withTl(perHeadDim(tl + "attn.W_Q", numHeads, h, d)));
      t.add(
          TensorSpec.of(p + "self_attn.k_proj.weight", TensorRole.DECODER_LINEAR, kv, d)
              .withTl(perHeadDim(tl + "attn._W_K", numKvHeads, h, d)));
      t.add(
          TensorSpec.of(p + "self_attn.v_proj.weight", TensorRole.DECODER_LINEAR, kv, d)
              .withTl(perHeadDim(tl + "attn._W_V", numKvHeads, h, d)));
      if (qkvBias) {
        t.add(TensorSpec.of(p + "self_attn.q_proj.bias", TensorRole.BIAS, q));
        t.add(TensorSpec.of(p + "self_attn.k_proj.bias", TensorRole.BIAS, kv));
        t.add(TensorSpec.of(p + "self_attn.v_proj.bias", TensorRole.BIAS, kv));
      }
      // W_O [n_heads, d_head, d_model], W_gate / W_in [d_model, d_mlp], W_out [d_mlp, d_model]:
      // the last axis is the HF rows
      t.add(
          TensorSpec.of(p + "self_attn.o_proj.weight", TensorRole.DECODER_LINEAR, d, q)
              .withTl(TlLayout.rows(tl + "attn.W_O", new long[] {d, q})));
      if (outputBias) {
        t.add(TensorSpec.of(p + "self_attn.o_proj.bias", TensorRole.BIAS, d));
      }
      t.add(TensorSpec.of(p + "post_attention_layernorm.weight", TensorRole.NORM, d));
      t.add(
          TensorSpec.of(p + "mlp.gate_proj.weight", TensorRole.DECODER_LINEAR, ff, d)
              .withTl(TlLayout.rows(tl + "mlp.W_gate", new long[] {ff, d})));
      t.add(
          TensorSpec.of(p + "mlp.up_proj.weight", TensorRole.DECODER_LINEAR, ff, d)
              .withTl(TlLayout.rows(tl + "mlp.W_in", new long[] {ff, d})));
      t.add(
          TensorSpec.of(p + "mlp.down_proj.weight", TensorRole.DECODER_LINEAR, d, ff)
              .withTl(TlLayout.rows(tl + "mlp.W_out", new long[] {d, ff})));
      if (mlpBias) {
        t.add(TensorSpec.of(p + "mlp.gate_proj.bias", TensorRole.BIAS, ff));
        t.add(TensorSpec.of(p + "mlp.up_proj.bias", TensorRole.BIAS, ff));
        t.add(TensorSpec.of(p + "mlp.down_proj.bias", TensorRole.BIAS, d));
      }
    }
    t.add(TensorSpec.of(FINAL_NORM, TensorRole.NORM, d));
    TlLayout unembed = TlLayout.rows("unembed.W_U", new long[] {vocabSize, d});
    t.add(
        (tiedEmbeddings
                ? TensorSpec.tied(LM_HEAD, EMBED, TensorRole.LM_HEAD, vocabSize, d)
                : TensorSpec.of(LM_HEAD, TensorRole.LM_HEAD, vocabSize, d))
            .withTl(unembed));
    return t;
  }

  /** A projection [heads * d_head, d_model] as TL's [heads, d_model, d_head]. */
  static TlLayout perHeadDim(String name, long heads, long headDim, long d) {
    return new TlLayout(List.of(name), new long[] {heads, headDim, d}, new int[] {1, 0, 2}, 1);
  }
}
