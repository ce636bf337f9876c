package qdm.model.llama;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import qdm.model.GatedDecoderTensors;
import qdm.model.ModelConfig;
import qdm.model.Nonlinearity;
import qdm.model.RopeScaling;
import qdm.model.TensorSpec;

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
    Nonlinearity activation)
    implements ModelConfig {

  static final String EMBED = GatedDecoderTensors.EMBED;
  static final String FINAL_NORM = GatedDecoderTensors.FINAL_NORM;
  static final String LM_HEAD = GatedDecoderTensors.LM_HEAD;

  private static final List<Pattern> BUFFERS =
      List.of(
          Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq"),
          Pattern.compile("model\\.rotary_emb\\.inv_freq"));

  /** Prefix of the tensors of block {@code i}. */
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
      GatedDecoderTensors.qkv(t, i, numHeads, numKvHeads, headDim, d, qkvBias);
      GatedDecoderTensors.output(t, i, (long) numHeads * headDim, d, outputBias);
      GatedDecoderTensors.norm(t, i, "post_attention_layernorm", d);
      GatedDecoderTensors.mlp(t, i, intermediateSize, d, mlpBias);
    }
    GatedDecoderTensors.head(t, vocabSize, d, tiedEmbeddings);
    return t;
  }
}
