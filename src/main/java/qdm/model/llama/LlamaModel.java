package qdm.model.llama;

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
      NDArray inputNorm, NDArray postAttnNorm, RotaryAttention attention, GatedMlp mlp) {}

  LlamaModel(LlamaConfig config, Weights w) {
    super(w);
    this.config = config;
    this.layers = new Layer[config.numLayers()];
    for (int i = 0; i < layers.length; i++) {
      String p = LlamaConfig.layer(i);
      layers[i] =
          new Layer(
              w.get(p + "input_layernorm.weight"),
              w.get(p + "post_attention_layernorm.weight"),
              RotaryAttention.read(w, p + "self_attn."),
              GatedMlp.read(w, p + "mlp."));
    }
    this.embed = w.get(LlamaConfig.EMBED);
    this.finalNorm = w.get(LlamaConfig.FINAL_NORM);
    this.lmHead = w.get(LlamaConfig.LM_HEAD);
    this.rope =
        new Rope(config.headDim(), config.headDim(), config.ropeTheta(), config.ropeScaling());
    this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
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
    NDArray attn =
        l.attention.apply(
            Ops.rmsNorm(x, l.inputNorm, eps),
            positions,
            config.numHeads(),
            config.numKvHeads(),
            config.headDim(),
            config.slidingWindow(),
            attentionScale,
            0f,
            taps);
    attn = taps.offer(HookPoint.Site.ATTN_OUT, attn);
    NDArray h = attn.addi(x);
    h = taps.offer(HookPoint.Site.RESID_MID, h);
    NDArray mlp = l.mlp.apply(Ops.rmsNorm(h, l.postAttnNorm, eps), config.activation());
    mlp = taps.offer(HookPoint.Site.MLP_OUT, mlp);
    return mlp.addi(h);
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
