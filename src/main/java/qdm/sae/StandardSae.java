package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** The standard (ReLU) SAE: {@code acts = ReLU(pre)}. */
final class StandardSae extends Sae {

  StandardSae(SaeConfig config, SaeWeights weights) {
    super(config, weights);
  }

  @Override
  protected NDArray activate(NDArray pre) {
    return Activation.relu(pre);
  }
}
