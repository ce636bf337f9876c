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
  private int layer;

  Taps(Set<HookPoint> wanted, NDManager batch) {
    this.wanted = wanted;
    this.batch = batch;
  }

  /** A collector that keeps nothing (training, benchmarks). */
  static Taps none(NDManager batch) {
    return new Taps(Set.of(), batch);
  }

  void at(int layer) {
    this.layer = layer;
  }

  /** Offers the current block's activation at {@code site}; kept (copied) if it was asked for. */
  public void offer(HookPoint.Site site, NDArray a) {
    HookPoint h = new HookPoint(layer, site);
    if (wanted.contains(h)) {
      NDArray copy = a.duplicate();
      copy.attach(batch);
      taken.put(h, copy);
    }
  }

  Map<HookPoint, NDArray> taken() {
    return taken;
  }
}
