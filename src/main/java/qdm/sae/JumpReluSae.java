package qdm.sae;

import ai.djl.ndarray.NDArray;

/**
 * JumpReLU (Gemma Scope, SAELens {@code jumprelu}): {@code acts = ReLU(pre) * (pre > threshold)}
 * with one threshold per feature. A feature fires when its pre-activation exceeds both its
 * threshold and 0, that is {@code pre > max(threshold, 0)}; the maximum is taken once at load.
 */
final class JumpReluSae extends ThresholdSae {
  private final NDArray cutoff; // max(threshold, 0) [d_sae]

  JumpReluSae(SaeConfig config, SaeTensors weights) {
    super(config, weights);
    this.cutoff =
        weights
            .threshold()
            .orElseThrow(() -> new IllegalArgumentException("a jumprelu SAE needs thresholds"))
            .maximum(0f);
  }

  @Override
  protected NDArray fires(NDArray pre) {
    return pre.gt(cutoff);
  }
}
