package qdm.model;

import ai.djl.ndarray.NDArray;

/**
 * The attention of the Llama-style decoders (Llama, Qwen2, Mistral, Gemma, Gemma-2): q, k and v
 * projections (optional biases), split into heads (grouped-query: fewer k/v heads), rotary
 * embedding on q and k, masked softmax attention, and the output projection. What differs between
 * them (the score scale, a soft-cap, a window) comes in as arguments.
 *
 * @param q [heads * head_dim, d]; biases are null where the checkpoint has none
 * @param k [kv_heads * head_dim, d]
 * @param v [kv_heads * head_dim, d]
 * @param o [d, heads * head_dim]
 */
public record RotaryAttention(
    NDArray q,
    NDArray qBias,
    NDArray k,
    NDArray kBias,
    NDArray v,
    NDArray vBias,
    NDArray o,
    NDArray oBias) {

  /** The projections under {@code prefix} ({@code model.layers.3.self_attn.}). */
  public static RotaryAttention read(Weights w, String prefix) {
    return new RotaryAttention(
        w.get(prefix + "q_proj.weight"),
        optional(w, prefix + "q_proj.bias"),
        w.get(prefix + "k_proj.weight"),
        optional(w, prefix + "k_proj.bias"),
        w.get(prefix + "v_proj.weight"),
        optional(w, prefix + "v_proj.bias"),
        w.get(prefix + "o_proj.weight"),
        optional(w, prefix + "o_proj.bias"));
  }

  /**
   * Attention of the normed stream {@code x} [B, T, d]; offers each head's output to {@code taps}
   * as {@code attn.hook_z}.
   *
   * @param window keys a query sees (itself included), 0 for all
   * @param softCap Gemma-2's score soft-cap, 0 for none
   */
  public NDArray apply(
      NDArray x,
      Positions positions,
      int heads,
      int kvHeads,
      int headDim,
      int window,
      float scale,
      float softCap,
      Taps taps) {
    Rope.Tables tables = positions.rope();
    // q/k/v projections, split into heads, rotary on q and k
    NDArray qh = tables.apply(Attention.splitHeads(Ops.linear(x, q, qBias), heads, headDim));
    NDArray kh = tables.apply(Attention.splitHeads(Ops.linear(x, k, kBias), kvHeads, headDim));
    NDArray vh = Attention.splitHeads(Ops.linear(x, v, vBias), kvHeads, headDim);
    NDArray context = Attention.attend(qh, kh, vh, positions.mask(window), scale, softCap);
    context = taps.offer(HookPoint.Site.ATTN_Z, context);
    return Ops.linear(context, o, oBias);
  }

  /** A tensor the weights may hold (a bias the config or the processing adds). */
  static NDArray optional(Weights w, String name) {
    return w.has(name) ? w.get(name) : null;
  }
}
