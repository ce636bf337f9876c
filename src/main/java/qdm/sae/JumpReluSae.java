package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;

/**
 * JumpReLU (Gemma Scope, SAELens {@code jumprelu}): {@code acts = ReLU(pre) * (pre > threshold)}
 * with one threshold per feature. A feature fires when its pre-activation exceeds both its
 * threshold and 0, so the rule is {@code pre} where {@code pre > max(threshold, 0)}, else 0;
 * {@code max(threshold, 0)} is computed once at load.
 */
final class JumpReluSae extends Sae {
  private final NDArray cutoff; // max(threshold, 0) [d_sae]

  JumpReluSae(SaeConfig config, SaeWeights weights) {
    super(config, weights);
    this.cutoff = weights.threshold().orElseThrow(() -> new IllegalArgumentException(
        "a jumprelu SAE needs thresholds")).maximum(0f);
  }

  @Override
  protected NDArray activate(NDArray pre) {
    return NDArrays.where(pre.gt(cutoff), pre, pre.zerosLike());
  }
}
