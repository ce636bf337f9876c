package qdm.model.llama;

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
 * The Llama-family forward pass (transformers' {@code LlamaForCausalLM}, {@code Qwen2ForCausalLM},
 * {@code MistralForCausalLM}, eager attention).
 *
 * <p>Block: {@code h = x + o_proj(attn(rms(x)))}, {@code out = h + down(silu(gate(n)) * up(n))}
 * with {@code n = rms(h)}; grouped-query attention with rotary embedding over the whole head
 * (rotate-half, frequencies scaled as {@code rope_scaling} says); scores scaled by {@code 1 /
 * sqrt(head_dim)}; a sliding window in every layer for Mistral.
 */
final class LlamaModel extends Transformer {
  private final LlamaConfig config;
  private final Layer[] layers;
  private final NDArray embed;
  private final NDArray finalNorm;
  private final NDArray lmHead;
  private final Rope rope;
  private final float attentionScale;

  /** The tensors of one block; biases are null where the config has none. */
  private record Layer(
      NDArray inputNorm,
      NDArray postAttnNorm, // (d)
      NDArray q,
      NDArray qBias,
      NDArray k,
      NDArray kBias,
      NDArray v,
      NDArray vBias, // (H*hd, d)
      NDArray o,
      NDArray oBias, // (d, H*hd)
      NDArray gate,
      NDArray gateBias,
      NDArray up,
      NDArray upBias, // (ff, d)
      NDArray down,
      NDArray downBias) {} // (d, ff)

  LlamaModel(LlamaConfig config, Weights w) {
    super(w);
    this.config = config;
    this.layers = new Layer[config.numLayers()];
    for (int i = 0; i < layers.length; i++) {
      String p = LlamaConfig.layer(i);
      String a = p + "self_attn.";
      String m = p + "mlp.";
      layers[i] =
          new Layer(
              w.get(p + "input_layernorm.weight"), w.get(p + "post_attention_layernorm.weight"),
              w.get(a + "q_proj.weight"), optional(w, a + "q_proj.bias"),
              w.get(a + "k_proj.weight"), optional(w, a + "k_proj.bias"),
              w.get(a + "v_proj.weight"), optional(w, a + "v_proj.bias"),
              w.get(a + "o_proj.weight"), optional(w, a + "o_proj.bias"),
              w.get(m + "gate_proj.weight"), optional(w, m + "gate_proj.bias"),
              w.get(m + "up_proj.weight"), optional(w, m + "up_proj.bias"),
              w.get(m + "down_proj.weight"), optional(w, m + "down_proj.bias"));
    }
    this.embed = w.get(LlamaConfig.EMBED);
    this.finalNorm = w.get(LlamaConfig.FINAL_NORM);
    this.lmHead = w.get(LlamaConfig.LM_HEAD);
    this.rope =
        new Rope(config.headDim(), config.headDim(), config.ropeTheta(), config.ropeScaling());
    this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
  }

  /** A tensor the weights may hold (a bias the config or the processing adds). */
  private static NDArray optional(Weights w, String name) {
    return w.has(name) ? w.get(name) : null;
  }

  @Override
  public LlamaConfig config() {
    return config;
  }

  @Override
  protected Rope.Tables rope(NDManager manager, int seqLen) {
    return rope.tables(manager, seqLen, dtype());
  }

  @Override
  protected NDArray embed(NDArray ids) {
    return embed.get(ids.getManager(), new NDIndex("{}", ids));
  }

  @Override
  protected NDArray block(int i, NDArray x, Positions positions, Taps taps) {
    Layer l = layers[i];
    float eps = config.rmsNormEps();
    NDArray attn = attention(l, Ops.rmsNorm(x, l.inputNorm, eps), positions, taps);
    taps.offer(HookPoint.Site.ATTN_OUT, attn);
    NDArray h = attn.addi(x);
    taps.offer(HookPoint.Site.RESID_MID, h);
    NDArray mlp = mlp(l, Ops.rmsNorm(h, l.postAttnNorm, eps));
    taps.offer(HookPoint.Site.MLP_OUT, mlp);
    return mlp.addi(h);
  }

  private NDArray attention(Layer l, NDArray x, Positions positions, Taps taps) {
    Rope.Tables tables = positions.rope();
    // q/k/v projections, split into heads, rotary on q and k
    NDArray q =
        tables.apply(
            Attention.splitHeads(Ops.linear(x, l.q, l.qBias), config.numHeads(), config.headDim()));
    NDArray k =
        tables.apply(
            Attention.splitHeads(
                Ops.linear(x, l.k, l.kBias), config.numKvHeads(), config.headDim()));
    NDArray v =
        Attention.splitHeads(Ops.linear(x, l.v, l.vBias), config.numKvHeads(), config.headDim());
    NDArray context =
        Attention.attend(q, k, v, positions.mask(config.slidingWindow()), attentionScale, 0f);
    taps.offer(HookPoint.Site.ATTN_Z, context);
    return Ops.linear(context, l.o, l.oBias);
  }

  private NDArray mlp(Layer l, NDArray x) {
    NDArray gate = config.activation().apply(Ops.linear(x, l.gate, l.gateBias));
    return Ops.linear(gate.mul(Ops.linear(x, l.up, l.upBias)), l.down, l.downBias);
  }

  @Override
  protected NDArray finalNorm(NDArray x) {
    return Ops.rmsNorm(x, finalNorm, config.rmsNormEps());
  }

  @Override
  protected NDArray unembed(NDArray normed) {
    return Ops.linear(normed, lmHead, null);
  }
}
