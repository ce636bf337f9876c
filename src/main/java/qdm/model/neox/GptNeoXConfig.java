package qdm.model.neox;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import qdm.model.ModelConfig;
import qdm.model.Nonlinearity;
import qdm.model.TensorRole;
import qdm.model.TensorSpec;
import qdm.model.TlLayout;

/**
 * GPT-NeoX (Pythia) hyper-parameters from {@code config.json}, and the checkpoint layout they
 * imply. The Hugging Face tensor names of this architecture appear here and nowhere else.
 *
 * @param rotaryDims dimensions of each head that rotate: {@code int(headDim * rotary_pct)}
 * @param parallelResidual {@code use_parallel_residual}: x + attn(ln1(x)) + mlp(ln2(x)) when true,
 *     sequential attention then MLP when false
 * @param attentionBias whether the QKV and output projections have biases
 * @param tiedEmbeddings {@code tie_word_embeddings}: {@code embed_out} falls back to the embedding
 */
public record GptNeoXConfig(
    int vocabSize,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int intermediateSize,
    int rotaryDims,
    double ropeTheta,
    float layerNormEps,
    boolean parallelResidual,
    boolean attentionBias,
    boolean tiedEmbeddings,
    Nonlinearity activation)
    implements ModelConfig {

  static final String PREFIX = "gpt_neox.";
  static final String EMBED = PREFIX + "embed_in.weight";
  static final String FINAL_NORM = PREFIX + "final_layer_norm.";
  static final String LM_HEAD = "embed_out.weight";

  @Override
  public String modelType() {
    return "gpt_neox";
  }

  public int headDim() {
    return hiddenSize / numHeads;
  }

  /** Prefix of the tensors of block {@code i}. */
  static String layer(int i) {
    return PREFIX + "layers." + i + ".";
  }

  /**
   * Buffers older transformers versions saved in GPT-NeoX checkpoints (Pythia's files have all
   * three): the causal mask, its fill value and the rotary inverse frequencies.
   */
  private static final List<Pattern> BUFFERS =
      List.of(
          Pattern.compile(
              "gpt_neox\\.layers\\.\\d+\\.attention\\.(bias|masked_bias|rotary_emb\\.inv_freq)"),
          Pattern.compile("gpt_neox\\.rotary_emb\\.inv_freq"));

  @Override
  public List<Pattern> ignoredTensors() {
    return BUFFERS;
  }

  @Override
  public List<TensorSpec> tensors() {
    long d = hiddenSize;
    long ff = intermediateSize;
    List<TensorSpec> t = new ArrayList<>();
    long n = numHeads;
    long h = headDim();
    t.add(
        TensorSpec.of(EMBED, TensorRole.EMBEDDING, vocabSize, d)
            .withTl(TlLayout.columns("embed.W_E", vocabSize, d)));
    for (int i = 0; i < numLayers; i++) {
      String p = layer(i);
      String tl = "blocks." + i + ".";
      for (String norm : List.of("input_layernorm.", "post_attention_layernorm.")) {
        t.add(TensorSpec.of(p + norm + "weight", TensorRole.NORM, d));
        t.add(TensorSpec.of(p + norm + "bias", TensorRole.NORM, d));
      }
      // rows (head, q|k|v, d_head): TL's W_Q, W_K, W_V [n_heads, d_model, d_head]
      t.add(
          TensorSpec.of(p + "attention.query_key_value.weight", TensorRole.DECODER_LINEAR, 3 * d, d)
              .withTl(
                  new TlLayout(
                      List.of(tl + "attn.W_Q", tl + "attn.W_K", tl + "attn.W_V"),
                      new long[] {n, 3, h, d},
                      new int[] {1, 2, 0, 3},
                      2)));
      if (attentionBias) {
        t.add(TensorSpec.of(p + "attention.query_key_value.bias", TensorRole.BIAS, 3 * d));
      }
      // TL's W_O [n_heads, d_head, d_model], W_in [d_model, d_mlp], W_out [d_mlp, d_model]: the
      // last axis is the HF rows
      t.add(
          TensorSpec.of(p + "attention.dense.weight", TensorRole.DECODER_LINEAR, d, d)
              .withTl(TlLayout.rows(tl + "attn.W_O", new long[] {d, d})));
      if (attentionBias) {
        t.add(TensorSpec.of(p + "attention.dense.bias", TensorRole.BIAS, d));
      }
      t.add(
          TensorSpec.of(p + "mlp.dense_h_to_4h.weight", TensorRole.DECODER_LINEAR, ff, d)
              .withTl(TlLayout.rows(tl + "mlp.W_in", new long[] {ff, d})));
      t.add(TensorSpec.of(p + "mlp.dense_h_to_4h.bias", TensorRole.BIAS, ff));
      t.add(
          TensorSpec.of(p + "mlp.dense_4h_to_h.weight", TensorRole.DECODER_LINEAR, d, ff)
              .withTl(TlLayout.rows(tl + "mlp.W_out", new long[] {d, ff})));
      t.add(TensorSpec.of(p + "mlp.dense_4h_to_h.bias", TensorRole.BIAS, d));
    }
    t.add(TensorSpec.of(FINAL_NORM + "weight", TensorRole.NORM, d));
    t.add(TensorSpec.of(FINAL_NORM + "bias", TensorRole.NORM, d));
    TlLayout unembed = TlLayout.rows("unembed.W_U", new long[] {vocabSize, d});
    t.add(
        (tiedEmbeddings
                ? TensorSpec.tied(LM_HEAD, EMBED, TensorRole.LM_HEAD, vocabSize, d)
                : TensorSpec.of(LM_HEAD, TensorRole.LM_HEAD, vocabSize, d))
            .withTl(unembed));
    return t;
  }
}
