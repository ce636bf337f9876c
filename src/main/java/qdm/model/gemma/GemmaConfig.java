package qdm.model.gemma;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import qdm.model.Activation;
import qdm.model.ModelConfig;
import qdm.model.TensorRole;
import qdm.model.TensorSpec;
import qdm.model.TlLayout;

/**
 * Gemma (1) hyper-parameters from {@code config.json} and the checkpoint layout they imply; the
 * Hugging Face tensor names of Gemma 1 appear here and nowhere else. The head is always the token
 * embedding (Gemma checkpoints have no {@code lm_head.weight}).
 */
public record GemmaConfig(
    int vocabSize,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int intermediateSize,
    float rmsNormEps,
    double ropeTheta,
    Activation activation)
    implements ModelConfig {

  static final String EMBED = "model.embed_tokens.weight";
  static final String FINAL_NORM = "model.norm.weight";
  static final String LM_HEAD = "lm_head.weight";

  private static final List<Pattern> BUFFERS =
      List.of(
          Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq"),
          Pattern.compile("model\\.rotary_emb\\.inv_freq"));

  @Override
  public String modelType() {
    return "gemma";
  }

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
      t.add(
          TensorSpec.of(p + "self_attn.q_proj.weight", TensorRole.DECODER_LINEAR, q, d)
              .withTl(perHeadDim(tl + "attn.W_Q", numHeads, h, d)));
      t.add(
          TensorSpec.of(p + "self_attn.k_proj.weight", TensorRole.DECODER_LINEAR, kv, d)
              .withTl(perHeadDim(tl + "attn._W_K", numKvHeads, h, d)));
      t.add(
          TensorSpec.of(p + "self_attn.v_proj.weight", TensorRole.DECODER_LINEAR, kv, d)
              .withTl(perHeadDim(tl + "attn._W_V", numKvHeads, h, d)));
      t.add(
          TensorSpec.of(p + "self_attn.o_proj.weight", TensorRole.DECODER_LINEAR, d, q)
              .withTl(TlLayout.rows(tl + "attn.W_O", new long[] {d, q})));
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
    }
    t.add(TensorSpec.of(FINAL_NORM, TensorRole.NORM, d));
    t.add(
        TensorSpec.tied(LM_HEAD, EMBED, TensorRole.LM_HEAD, vocabSize, d)
            .withTl(TlLayout.rows("unembed.W_U", new long[] {vocabSize, d})));
    return t;
  }

  private static TlLayout perHeadDim(String name, long heads, long headDim, long d) {
    return new TlLayout(List.of(name), new long[] {heads, headDim, d}, new int[] {1, 0, 2}, 1);
  }
}
