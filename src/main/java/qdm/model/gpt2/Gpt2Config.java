package qdm.model.gpt2;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import qdm.model.ModelConfig;
import qdm.model.Nonlinearity;
import qdm.model.TensorRole;
import qdm.model.TensorSpec;
import qdm.model.TlLayout;

/**
 * GPT-2 hyper-parameters from {@code config.json} and the checkpoint layout they imply. The Hugging
 * Face tensor names of GPT-2 appear here and in {@link Gpt2Checkpoint} only.
 *
 * <p>GPT-2's {@code Conv1D} weights are stored [in, out]; QDM holds them transposed, [out, in] like
 * every other linear weight ({@link Gpt2Checkpoint} transposes on read), so one RTN scale per row
 * is one per output channel and the forward pass has a single kind of linear layer. The shapes
 * below are the held ones.
 *
 * @param maxPositions {@code n_positions}: rows of the learned position embedding
 * @param scaleAttnWeights scores divided by sqrt(head_dim) ({@code scale_attn_weights})
 * @param scaleByInverseLayerIdx scores of block i further divided by i + 1
 * @param tiedEmbeddings {@code lm_head} is the token embedding (GPT2LMHeadModel's default)
 */
public record Gpt2Config(
    int vocabSize,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int intermediateSize,
    int maxPositions,
    float layerNormEps,
    Nonlinearity activation,
    boolean scaleAttnWeights,
    boolean scaleByInverseLayerIdx,
    boolean tiedEmbeddings)
    implements ModelConfig {

  static final String PREFIX = "transformer.";
  static final String WTE = PREFIX + "wte.weight";
  static final String WPE = PREFIX + "wpe.weight";
  static final String FINAL_NORM = PREFIX + "ln_f.";
  static final String LM_HEAD = "lm_head.weight";

  /** The causal-mask buffers older GPT-2 checkpoints carry. */
  private static final List<Pattern> BUFFERS =
      List.of(Pattern.compile("transformer\\.h\\.\\d+\\.attn\\.(bias|masked_bias)"));

  @Override
  public String modelType() {
    return "gpt2";
  }

  public int headDim() {
    return hiddenSize / numHeads;
  }

  /** Prefix of the tensors of block {@code i}. */
  static String layer(int i) {
    return PREFIX + "h." + i + ".";
  }

  @Override
  public List<Pattern> ignoredTensors() {
    return BUFFERS;
  }

  @Override
  public List<TensorSpec> tensors() {
    long d = hiddenSize;
    long ff = intermediateSize;
    long n = numHeads;
    long h = headDim();
    List<TensorSpec> t = new ArrayList<>();
    t.add(
        TensorSpec.of(WTE, TensorRole.EMBEDDING, vocabSize, d)
            .withTl(TlLayout.columns("embed.W_E", vocabSize, d)));
    t.add(
        TensorSpec.of(WPE, TensorRole.EMBEDDING, maxPositions, d)
            .withTl(TlLayout.columns("pos_embed.W_pos", maxPositions, d)));
    for (int i = 0; i < numLayers; i++) {
      String p = layer(i);
      String tl = "blocks." + i + ".";
      for (String norm : List.of("ln_1.", "ln_2.")) {
        t.add(TensorSpec.of(p + norm + "weight", TensorRole.NORM, d));
        t.add(TensorSpec.of(p + norm + "bias", TensorRole.NORM, d));
      }
      // held [3d, d]: rows (q|k|v, head, d_head); TL's W_Q, W_K, W_V [n_heads, d_model, d_head]
      t.add(
          TensorSpec.of(p + "attn.c_attn.weight", TensorRole.DECODER_LINEAR, 3 * d, d)
              .withTl(
                  new TlLayout(
                      List.of(tl + "attn.W_Q", tl + "attn.W_K", tl + "attn.W_V"),
                      new long[] {3, n, h, d},
                      new int[] {0, 2, 1, 3},
                      2)));
      t.add(TensorSpec.of(p + "attn.c_attn.bias", TensorRole.BIAS, 3 * d));
      t.add(
          TensorSpec.of(p + "attn.c_proj.weight", TensorRole.DECODER_LINEAR, d, d)
              .withTl(TlLayout.rows(tl + "attn.W_O", new long[] {d, d})));
      t.add(TensorSpec.of(p + "attn.c_proj.bias", TensorRole.BIAS, d));
      t.add(
          TensorSpec.of(p + "mlp.c_fc.weight", TensorRole.DECODER_LINEAR, ff, d)
              .withTl(TlLayout.rows(tl + "mlp.W_in", new long[] {ff, d})));
      t.add(TensorSpec.of(p + "mlp.c_fc.bias", TensorRole.BIAS, ff));
      t.add(
          TensorSpec.of(p + "mlp.c_proj.weight", TensorRole.DECODER_LINEAR, d, ff)
              .withTl(TlLayout.rows(tl + "mlp.W_out", new long[] {d, ff})));
      t.add(TensorSpec.of(p + "mlp.c_proj.bias", TensorRole.BIAS, d));
    }
    t.add(TensorSpec.of(FINAL_NORM + "weight", TensorRole.NORM, d));
    t.add(TensorSpec.of(FINAL_NORM + "bias", TensorRole.NORM, d));
    TlLayout unembed = TlLayout.rows("unembed.W_U", new long[] {vocabSize, d});
    t.add(
        (tiedEmbeddings
                ? TensorSpec.tied(LM_HEAD, WTE, TensorRole.LM_HEAD, vocabSize, d)
                : TensorSpec.of(LM_HEAD, TensorRole.LM_HEAD, vocabSize, d))
            .withTl(unembed));
    return t;
  }
}
