package qdm.model;

import ai.djl.ndarray.NDArray;

/**
 * The gated MLP of the Llama-style decoders: {@code down(act(gate(x)) * up(x))}, biases optional
 * (Llama's {@code mlp_bias}).
 *
 * @param gate [ff, d]
 * @param up [ff, d]
 * @param down [d, ff]
 */
public record GatedMlp(
    NDArray gate, NDArray gateBias, NDArray up, NDArray upBias, NDArray down, NDArray downBias) {

  /** The projections under {@code prefix} ({@code model.layers.3.mlp.}). */
  public static GatedMlp read(Weights w, String prefix) {
    return new GatedMlp(
        w.get(prefix + "gate_proj.weight"),
        RotaryAttention.optional(w, prefix + "gate_proj.bias"),
        w.get(prefix + "up_proj.weight"),
        RotaryAttention.optional(w, prefix + "up_proj.bias"),
        w.get(prefix + "down_proj.weight"),
        RotaryAttention.optional(w, prefix + "down_proj.bias"));
  }

  /** The MLP of the normed stream {@code x}. */
  public NDArray apply(NDArray x, Nonlinearity activation) {
    NDArray g = activation.apply(Ops.linear(x, gate, gateBias));
    return Ops.linear(g.mul(Ops.linear(x, up, upBias)), down, downBias);
  }
}
