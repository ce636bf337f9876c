package qdm.sae;

import ai.djl.ndarray.NDArray;

/** The standard (ReLU) SAE: {@code acts = ReLU(pre)}, i.e. pre where pre > 0. */
final class StandardSae extends ThresholdSae {

  StandardSae(SaeConfig config, SaeTensors weights) {
    super(config, weights);
  }

  @Override
  protected NDArray fires(NDArray pre) {
    return pre.gt(0f);
  }
}
