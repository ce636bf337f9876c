package qdm.model.gpt2;

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
 * The GPT-2 forward pass (transformers' {@code GPT2LMHeadModel}, eager attention).
 *
 * <p>Token plus learned position embeddings; block {@code a = x + c_proj(attn(ln_1(x)))}, {@code
 * out = a + mlp.c_proj(act(c_fc(ln_2(a))))}; the fused {@code c_attn} output is [Q | K | V] blocks
 * (not interleaved per head); scores divided by sqrt(head_dim) and, with {@code
 * scale_attn_by_inverse_layer_idx}, by the block index plus one; the head is the token embedding
 * unless the checkpoint has its own. {@code reorder_and_upcast_attn} only changes where
 * half-precision scores are upcast; QDM computes scores in float32 either way.
 */
final class Gpt2Model extends Transformer {
  private final Gpt2Config config;
  private final Layer[] layers;
  private final NDArray wte;
  private final NDArray wpe;
  private final NDArray finalNormWeight;
  private final NDArray finalNormBias;
  private final NDArray lmHead;
  private final NDArray lmHeadBias; // TransformerLens-processed weights only

  /** The tensors of one block, linear weights held [out, in]. */
  private record Layer(
      NDArray ln1Weight,
      NDArray ln1Bias,
      NDArray ln2Weight,
      NDArray ln2Bias, // (d)
      NDArray qkv,
      NDArray qkvBias, // (3d, d): rows [Q | K | V]
      NDArray out,
      NDArray outBias, // attn.c_proj (d, d)
      NDArray up,
      NDArray upBias, // mlp.c_fc (ff, d)
      NDArray down,
      NDArray downBias) {} // mlp.c_proj (d, ff)

  Gpt2Model(Gpt2Config config, Weights w) {
    super(w);
    this.config = config;
    this.layers = new Layer[config.numLayers()];
    for (int i = 0; i < layers.length; i++) {
      String p = Gpt2Config.layer(i);
      layers[i] =
          new Layer(
              w.get(p + "ln_1.weight"), w.get(p + "ln_1.bias"),
              w.get(p + "ln_2.weight"), w.get(p + "ln_2.bias"),
              w.get(p + "attn.c_attn.weight"), w.get(p + "attn.c_attn.bias"),
              w.get(p + "attn.c_proj.weight"), w.get(p + "attn.c_proj.bias"),
              w.get(p + "mlp.c_fc.weight"), w.get(p + "mlp.c_fc.bias"),
              w.get(p + "mlp.c_proj.weight"), w.get(p + "mlp.c_proj.bias"));
    }
    this.wte = w.get(Gpt2Config.WTE);
    this.wpe = w.get(Gpt2Config.WPE);
    this.finalNormWeight = w.get(Gpt2Config.FINAL_NORM + "weight");
    this.finalNormBias = w.get(Gpt2Config.FINAL_NORM + "bias");
    this.lmHead = w.get(Gpt2Config.LM_HEAD);
    this.lmHeadBias =
        w.has(Gpt2TlProcessing.LM_HEAD_BIAS) ? w.get(Gpt2TlProcessing.LM_HEAD_BIAS) : null;
  }

  @Override
  public Gpt2Config config() {
    return config;
  }

  @Override
  protected Rope.Tables rope(NDManager manager, int seqLen) {
    return null; // learned absolute positions, no rotary
  }

  @Override
  protected NDArray embed(NDArray ids) {
    long seqLen = ids.getShape().get(1);
    NDArray tokens = wte.get(ids.getManager(), new NDIndex("{}", ids));
    NDArray positions = wpe.get(ids.getManager(), new NDIndex("0:{}", seqLen));
    return tokens.addi(positions);
  }

  @Override
  protected NDArray block(int i, NDArray x, Positions positions, Taps taps) {
    Layer l = layers[i];
    float eps = config.layerNormEps();
    NDArray attn = attention(i, l, Ops.layerNorm(x, l.ln1Weight, l.ln1Bias, eps), positions, taps);
    attn = taps.offer(HookPoint.Site.ATTN_OUT, attn);
    NDArray a = attn.addi(x);
    a = taps.offer(HookPoint.Site.RESID_MID, a);
    NDArray hidden =
        config
            .activation()
            .apply(Ops.linear(Ops.layerNorm(a, l.ln2Weight, l.ln2Bias, eps), l.up, l.upBias));
    NDArray mlp = Ops.linear(hidden, l.down, l.downBias);
    mlp = taps.offer(HookPoint.Site.MLP_OUT, mlp);
    return mlp.addi(a);
  }

  private NDArray attention(int i, Layer l, NDArray x, Positions positions, Taps taps) {
    long d = config.hiddenSize();
    long heads = config.numHeads();
    long dim = config.headDim();
    // fused projection: [Q | K | V] along the features
    NDArray qkv = Ops.linear(x, l.qkv, l.qkvBias);
    NDArray q = Attention.splitHeads(qkv.get(new NDIndex("..., 0:{}", d)), heads, dim);
    NDArray k = Attention.splitHeads(qkv.get(new NDIndex("..., {}:{}", d, 2 * d)), heads, dim);
    NDArray v = Attention.splitHeads(qkv.get(new NDIndex("..., {}:", 2 * d)), heads, dim);
    double scale = config.scaleAttnWeights() ? 1.0 / Math.sqrt(dim) : 1.0;
    if (config.scaleByInverseLayerIdx()) {
      scale /= i + 1;
    }
    NDArray context = Attention.attend(q, k, v, positions.mask(0), (float) scale, 0f);
    context = taps.offer(HookPoint.Site.ATTN_Z, context);
    return Ops.linear(context, l.out, l.outBias);
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
