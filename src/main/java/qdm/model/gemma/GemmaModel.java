package qdm.model.gemma;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import qdm.model.GatedMlp;
import qdm.model.HookPoint;
import qdm.model.Ops;
import qdm.model.Positions;
import qdm.model.Rope;
import qdm.model.RotaryAttention;
import qdm.model.Taps;
import qdm.model.Transformer;
import qdm.model.Weights;

/**
 * The Gemma (1) forward pass (transformers' {@code GemmaForCausalLM}, eager attention).
 *
 * <p>Embeddings scaled by sqrt(d) (a tensor of the activation dtype); block {@code h = x +
 * o_proj(attn(rms(x)))}, {@code out = h + down(gelu_tanh(gate(n)) * up(n))}, {@code n = rms(h)},
 * with Gemma's RMSNorm scaling by {@code 1 + w}; multi- or grouped-query attention with rotary over
 * the whole head, scores scaled by 1 / sqrt(head_dim); the head is the embedding.
 */
final class GemmaModel extends Transformer {
  private final GemmaConfig config;
  private final Layer[] layers;
  private final NDArray embed;
  private final NDArray finalNorm;
  private final NDArray lmHead;
  private final Rope rope;
  private final float attentionScale;

  private record Layer(
      NDArray inputNorm, NDArray postAttnNorm, RotaryAttention attention, GatedMlp mlp) {}

  GemmaModel(GemmaConfig config, Weights w) {
    super(w);
    this.config = config;
    this.layers = new Layer[config.numLayers()];
    for (int i = 0; i < layers.length; i++) {
      String p = GemmaConfig.layer(i);
      layers[i] =
          new Layer(
              w.get(p + "input_layernorm.weight"),
              w.get(p + "post_attention_layernorm.weight"),
              RotaryAttention.read(w, p + "self_attn."),
              GatedMlp.read(w, p + "mlp."));
    }
    this.embed = w.get(GemmaConfig.EMBED);
    this.finalNorm = w.get(GemmaConfig.FINAL_NORM);
    this.lmHead = w.get(GemmaConfig.LM_HEAD);
    this.rope = new Rope(config.headDim(), config.headDim(), config.ropeTheta());
    this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
  }

  @Override
  public GemmaConfig config() {
    return config;
  }

  @Override
  protected Rope.Tables rope(NDManager manager, int seqLen) {
    return rope.tables(manager, seqLen, dtype());
  }

  @Override
  protected NDArray embed(NDArray ids) {
    NDArray x = embed.get(ids.getManager(), new NDIndex("{}", ids));
    NDArray normalizer =
        Ops.scalar(x, (float) Math.sqrt(config.hiddenSize())).toType(x.getDataType(), false);
    return x.mul(normalizer);
  }

  @Override
  protected NDArray block(int i, NDArray x, Positions positions, Taps taps) {
    Layer l = layers[i];
    float eps = config.rmsNormEps();
    NDArray attn =
        l.attention.apply(
            Ops.gemmaRmsNorm(x, l.inputNorm, eps),
            positions,
            config.numHeads(),
            config.numKvHeads(),
            config.headDim(),
            0,
            attentionScale,
            0f,
            taps);
    attn = taps.offer(HookPoint.Site.ATTN_OUT, attn);
    NDArray h = attn.addi(x);
    h = taps.offer(HookPoint.Site.RESID_MID, h);
    NDArray mlp = l.mlp.apply(Ops.gemmaRmsNorm(h, l.postAttnNorm, eps), config.activation());
    mlp = taps.offer(HookPoint.Site.MLP_OUT, mlp);
    return mlp.addi(h);
  }

  @Override
  protected NDArray finalNorm(NDArray x) {
    return Ops.gemmaRmsNorm(x, finalNorm, config.rmsNormEps());
  }

  @Override
  protected NDArray unembed(NDArray normed) {
    return Ops.linear(normed, lmHead, null);
  }
}
