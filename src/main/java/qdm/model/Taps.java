package qdm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The activations a block hands out from inside itself ({@code hook_attn_out}, {@code
 * hook_mlp_out}, {@code hook_resid_mid}, {@code attn.hook_z}) when a capture asks for them. A block
 * offers each site once, before any in-place op can change the array; only the sites asked for are
 * copied out (into the batch's manager, since the block's scratch manager closes with the block),
 * so a pass that wants none pays nothing.
 */
public final class Taps {
  private final Set<HookPoint> wanted;
  private final NDManager batch;
  private final Map<HookPoint, NDArray> taken = new LinkedHashMap<>();
  private final HookPoint replaced;
  private final NDArray replacement;
  private int layer;

  Taps(Set<HookPoint> wanted, NDManager batch) {
    this(wanted, batch, null, null);
  }

  private Taps(Set<HookPoint> wanted, NDManager batch, HookPoint replaced, NDArray replacement) {
    this.wanted = wanted;
    this.batch = batch;
    this.replaced = replaced;
    this.replacement = replacement;
  }

  /**
   * A collector that keeps nothing and hands the block {@code replacement} in place of its
   * activation at {@code site}: the splice of an SAE's reconstruction (or of zeros) into the model.
   */
  static Taps replacing(HookPoint site, NDArray replacement, NDManager batch) {
    return new Taps(Set.of(), batch, site, replacement);
  }

  /** A collector that keeps nothing (training, benchmarks). */
  static Taps none(NDManager batch) {
    return new Taps(Set.of(), batch);
  }

  void at(int layer) {
    this.layer = layer;
  }

  /**
   * Offers the current block's activation at {@code site}; kept (copied) if it was asked for. The
   * block goes on with what this returns: {@code a} itself, or a fresh copy of the replacement
   * (shaped as {@code a}) when this site is being spliced, so the block's in-place ops never touch
   * the caller's array.
   */
  public NDArray offer(HookPoint.Site site, NDArray a) {
    HookPoint h = new HookPoint(layer, site);
    if (wanted.contains(h)) {
      NDArray copy = a.duplicate();
      copy.attach(batch);
      taken.put(h, copy);
    }
    if (h.equals(replaced)) {
      return replacement.reshape(a.getShape()).toType(a.getDataType(), true);
    }
    return a;
  }

  Map<HookPoint, NDArray> taken() {
    return taken;
  }
}
