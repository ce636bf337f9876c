package qdm.model.neox;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import qdm.model.Attention;
import qdm.model.HookPoint;
import qdm.model.Ops;
import qdm.model.Positions;
import qdm.model.Rope;
import qdm.model.Taps;
import qdm.model.Transformer;
import qdm.model.Weights;

/**
 * The GPT-NeoX forward pass (transformers' {@code GPTNeoXForCausalLM}, eager attention).
 *
 * <p>Block: {@code x + attn(ln1(x)) + mlp(ln2(x))} with the parallel residual, or attention then
 * MLP sequentially; a fused QKV projection whose output rows are grouped per head as [q | k | v];
 * partial rotary on the first {@code rotaryDims} dims of q and k; exact GELU MLP.
 */
final class GptNeoXModel extends Transformer {
  private final GptNeoXConfig config;
  private final Layer[] layers;
  private final NDArray embed;
  private final NDArray finalNormWeight;
  private final NDArray finalNormBias;
  private final NDArray lmHead;
  private final NDArray lmHeadBias; // TransformerLens-processed weights only: the folded b_U
  private final Rope rope;
  private final float attentionScale;

  /** The tensors of one block. Biases are null when the config has none. */
  private record Layer(
      NDArray ln1Weight,
      NDArray ln1Bias, // input_layernorm (d)
      NDArray ln2Weight,
      NDArray ln2Bias, // post_attention_layernorm (d)
      NDArray qkv,
      NDArray qkvBias, // (3d, d): rows of head h are [q | k | v]
      NDArray out,
      NDArray outBias, // attention.dense (d, d)
      NDArray up,
      NDArray upBias, // mlp.dense_h_to_4h (ff, d)
      NDArray down,
      NDArray downBias) {} // mlp.dense_4h_to_h (d, ff)

  GptNeoXModel(GptNeoXConfig config, Weights w) {
    super(w);
    this.config = config;
    this.layers = new Layer[config.numLayers()];
    for (int i = 0; i < layers.length; i++) {
      String p = GptNeoXConfig.layer(i);
      layers[i] =
          new Layer(
              w.get(p + "input_layernorm.weight"),
              w.get(p + "input_layernorm.bias"),
              w.get(p + "post_attention_layernorm.weight"),
              w.get(p + "post_attention_layernorm.bias"),
              w.get(p + "attention.query_key_value.weight"),
              config.attentionBias() ? w.get(p + "attention.query_key_value.bias") : null,
              w.get(p + "attention.dense.weight"),
              config.attentionBias() ? w.get(p + "attention.dense.bias") : null,
              w.get(p + "mlp.dense_h_to_4h.weight"),
              w.get(p + "mlp.dense_h_to_4h.bias"),
              w.get(p + "mlp.dense_4h_to_h.weight"),
              w.get(p + "mlp.dense_4h_to_h.bias"));
    }
    this.embed = w.get(GptNeoXConfig.EMBED);
    this.finalNormWeight = w.get(GptNeoXConfig.FINAL_NORM + "weight");
    this.finalNormBias = w.get(GptNeoXConfig.FINAL_NORM + "bias");
    this.lmHead = w.get(GptNeoXConfig.LM_HEAD);
    this.lmHeadBias =
        w.has(GptNeoXTlProcessing.LM_HEAD_BIAS) ? w.get(GptNeoXTlProcessing.LM_HEAD_BIAS) : null;
    this.rope = new Rope(config.headDim(), config.rotaryDims(), config.ropeTheta());
    this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
  }

  @Override
  public GptNeoXConfig config() {
    return config;
  }

  @Override
  protected Rope.Tables rope(NDManager manager, int seqLen) {
    return rope.tables(manager, seqLen, dtype());
  }

  @Override
  protected NDArray embed(NDArray ids) {
    return embed.get(ids.getManager(), new NDIndex("{}", ids)); // embed_in: rows of (V, d)
  }

  @Override
  protected NDArray block(int i, NDArray x, Positions positions, Taps taps) {
    Layer l = layers[i];
    float eps = config.layerNormEps();
    NDArray attn = attention(l, Ops.layerNorm(x, l.ln1Weight, l.ln1Bias, eps), positions, taps);
    attn = taps.offer(HookPoint.Site.ATTN_OUT, attn);
    // the residual sums accumulate in place into fresh arrays (attn, mlp), never into x
    if (config.parallelResidual()) {
      NDArray mlp = mlp(l, Ops.layerNorm(x, l.ln2Weight, l.ln2Bias, eps));
      mlp = taps.offer(HookPoint.Site.MLP_OUT, mlp);
      return mlp.addi(attn).addi(x);
    }
    NDArray h = attn.addi(x);
    h = taps.offer(HookPoint.Site.RESID_MID, h);
    NDArray mlp = mlp(l, Ops.layerNorm(h, l.ln2Weight, l.ln2Bias, eps));
    mlp = taps.offer(HookPoint.Site.MLP_OUT, mlp);
    return mlp.addi(h);
  }

  private NDArray attention(Layer l, NDArray x, Positions positions, Taps taps) {
    long heads = config.numHeads();
    long dim = config.headDim();
    // fused projection, viewed per head as [q | k | v]
    NDArray qkv = Ops.linear(x, l.qkv, l.qkvBias);
    qkv = qkv.reshape(qkv.getShape().get(0), qkv.getShape().get(1), heads, 3 * dim);
    NDArray q = qkv.get(new NDIndex("..., 0:{}", dim)).swapAxes(1, 2);
    NDArray k = qkv.get(new NDIndex("..., {}:{}", dim, 2 * dim)).swapAxes(1, 2);
    NDArray v = qkv.get(new NDIndex("..., {}:", 2 * dim)).swapAxes(1, 2);
    // rotary on the first rotaryDims of each head
    q = positions.rope().apply(q);
    k = positions.rope().apply(k);
    NDArray context = Attention.attend(q, k, v, positions.mask(0), attentionScale, 0f);
    context =
        taps.offer(HookPoint.Site.ATTN_Z, context); // heads concatenated, before the output proj
    return Ops.linear(context, l.out, l.outBias);
  }

  private NDArray mlp(Layer l, NDArray x) {
    NDArray hidden = config.activation().apply(Ops.linear(x, l.up, l.upBias));
    return Ops.linear(hidden, l.down, l.downBias);
  }

  @Override
  protected NDArray finalNorm(NDArray x) {
    return Ops.layerNorm(x, finalNormWeight, finalNormBias, config.layerNormEps());
  }

  @Override
  protected NDArray unembed(NDArray normed) {
    return Ops.linear(normed, lmHead, lmHeadBias);
  }
}
