package qdm.model.gemma2;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import qdm.model.GatedDecoderTensors;
import qdm.model.ModelConfig;
import qdm.model.Nonlinearity;
import qdm.model.TensorSpec;

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
    Nonlinearity activation)
    implements ModelConfig {

  static final String EMBED = GatedDecoderTensors.EMBED;
  static final String FINAL_NORM = GatedDecoderTensors.FINAL_NORM;
  static final String LM_HEAD = GatedDecoderTensors.LM_HEAD;

  @Override
  public String modelType() {
    return "gemma2";
  }

  /** Prefix of the tensors of block {@code i}. */
  static String layer(int i) {
    return GatedDecoderTensors.layer(i);
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
    List<TensorSpec> t = new ArrayList<>();
    GatedDecoderTensors.embedding(t, vocabSize, d);
    for (int i = 0; i < numLayers; i++) {
      GatedDecoderTensors.qkv(t, i, numHeads, numKvHeads, headDim, d, false);
      GatedDecoderTensors.output(t, i, (long) numHeads * headDim, d, false);
      GatedDecoderTensors.mlp(t, i, intermediateSize, d, false);
      for (String norm :
          List.of(
              "input_layernorm",
              "post_attention_layernorm",
              "pre_feedforward_layernorm",
              "post_feedforward_layernorm")) {
        GatedDecoderTensors.norm(t, i, norm, d);
      }
    }
    GatedDecoderTensors.head(t, vocabSize, d, true);
    return t;
  }
}
