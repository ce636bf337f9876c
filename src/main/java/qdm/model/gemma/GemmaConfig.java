package qdm.model.gemma;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import qdm.model.GatedDecoderTensors;
import qdm.model.ModelConfig;
import qdm.model.Nonlinearity;
import qdm.model.TensorSpec;

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
    Nonlinearity activation)
    implements ModelConfig {

  static final String EMBED = GatedDecoderTensors.EMBED;
  static final String FINAL_NORM = GatedDecoderTensors.FINAL_NORM;
  static final String LM_HEAD = GatedDecoderTensors.LM_HEAD;

  private static final List<Pattern> BUFFERS =
      List.of(
          Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq"),
          Pattern.compile("model\\.rotary_emb\\.inv_freq"));

  @Override
  public String modelType() {
    return "gemma";
  }

  static String layer(int i) {
    return GatedDecoderTensors.layer(i);
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
    List<TensorSpec> t = new ArrayList<>();
    GatedDecoderTensors.embedding(t, vocabSize, d);
    for (int i = 0; i < numLayers; i++) {
      GatedDecoderTensors.norm(t, i, "input_layernorm", d);
      GatedDecoderTensors.qkv(t, i, numHeads, numKvHeads, headDim, d, false);
      GatedDecoderTensors.output(t, i, (long) numHeads * headDim, d, false);
      GatedDecoderTensors.norm(t, i, "post_attention_layernorm", d);
      GatedDecoderTensors.mlp(t, i, intermediateSize, d, false);
    }
    GatedDecoderTensors.head(t, vocabSize, d, true);
    return t;
  }
}
