package qdm.model.gemma2;

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
 * The Gemma-2 forward pass (transformers' {@code Gemma2ForCausalLM}, eager attention).
 *
 * <p>Embeddings scaled by sqrt(d); each block is sandwich-normed: {@code h = x +
 * post_attn_norm(attn(input_norm(x)))}, {@code out = h + post_ff_norm(mlp(pre_ff_norm(h)))};
 * grouped-query attention with soft-capped scores, a sliding window on even layers; gated GELU-tanh
 * MLP; soft-capped logits from an unembedding tied to the embedding.
 */
final class Gemma2Model extends Transformer {
  private final Gemma2Config config;
  private final Layer[] layers;
  private final NDArray embed;
  private final NDArray finalNorm;
  private final NDArray lmHead;
  private final Rope rope;
  private final float attentionScale;

  /** The tensors of one block. */
  private record Layer(
      NDArray inputNorm,
      NDArray postAttnNorm,
      NDArray preFfNorm,
      NDArray postFfNorm,
      RotaryAttention attention,
      GatedMlp mlp) {}

  Gemma2Model(Gemma2Config config, Weights w) {
    super(w);
    this.config = config;
    this.layers = new Layer[config.numLayers()];
    for (int i = 0; i < layers.length; i++) {
      String p = Gemma2Config.layer(i);
      layers[i] =
          new Layer(
              w.get(p + "input_layernorm.weight"),
              w.get(p + "post_attention_layernorm.weight"),
              w.get(p + "pre_feedforward_layernorm.weight"),
              w.get(p + "post_feedforward_layernorm.weight"),
              RotaryAttention.read(w, p + "self_attn."),
              GatedMlp.read(w, p + "mlp."));
    }
    this.embed = w.get(Gemma2Config.EMBED);
    this.finalNorm = w.get(Gemma2Config.FINAL_NORM);
    this.lmHead = w.get(Gemma2Config.LM_HEAD);
    this.rope = new Rope(config.headDim(), config.headDim(), config.ropeTheta());
    this.attentionScale = (float) Math.pow(config.queryPreAttnScalar(), -0.5);
  }

  @Override
  public Gemma2Config config() {
    return config;
  }

  @Override
  protected Rope.Tables rope(NDManager manager, int seqLen) {
    return rope.tables(manager, seqLen, dtype());
  }

  @Override
  protected NDArray embed(NDArray ids) {
    NDArray x = embed.get(ids.getManager(), new NDIndex("{}", ids));
    // the normalizer is a tensor of the activation dtype in transformers (rounded in f16 / bf16)
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
            config.isSliding(i) ? config.slidingWindow() : 0,
            attentionScale,
            config.attnSoftCap(),
            taps);
    // TransformerLens's hook_attn_out / hook_mlp_out come after the post-norms
    NDArray attnOut = Ops.gemmaRmsNorm(attn, l.postAttnNorm, eps);
    attnOut = taps.offer(HookPoint.Site.ATTN_OUT, attnOut);
    NDArray h = attnOut.add(x);
    h = taps.offer(HookPoint.Site.RESID_MID, h);
    NDArray mlp = l.mlp.apply(Ops.gemmaRmsNorm(h, l.preFfNorm, eps), config.activation());
    NDArray mlpOut = Ops.gemmaRmsNorm(mlp, l.postFfNorm, eps);
    mlpOut = taps.offer(HookPoint.Site.MLP_OUT, mlpOut);
    return mlpOut.add(h);
  }

  @Override
  protected NDArray finalNorm(NDArray x) {
    return Ops.gemmaRmsNorm(x, finalNorm, config.rmsNormEps());
  }

  @Override
  protected NDArray unembed(NDArray normed) {
    NDArray logits = Ops.linear(normed, lmHead, null);
    float cap = config.finalSoftCap();
    if (cap > 0) {
      NDArray c = Ops.scalar(logits, cap);
      logits = logits.div(c).tanh().mul(c);
    }
    return logits;
  }
}
