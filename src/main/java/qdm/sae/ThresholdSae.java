package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;

/**
 * Architectures whose activation is the pre-activation itself where it exceeds a cutoff, and 0
 * elsewhere; they differ only in the cutoff. Their sparse codes come straight from the firing mask,
 * without building the dense activations.
 */
abstract class ThresholdSae extends Sae {

  ThresholdSae(SaeConfig config, SaeTensors weights) {
    super(config, weights);
  }

  /** True where a feature fires: [..., d_sae] booleans. */
  protected abstract NDArray fires(NDArray pre);

  @Override
  protected final NDArray activate(NDArray pre) {
    // a scalar 0 broadcasts: no second [N, d_sae] array of zeros
    return NDArrays.where(fires(pre), pre, pre.getManager().create(0f));
  }

  @Override
  protected final SparseCodes sparseCodes(NDArray pre) {
    NDArray positions = fires(pre).reshape(-1).nonzero().reshape(-1); // row-major order
    return toHost(positions, pre.reshape(-1).gather(positions, 0), pre.size(), config().dSae());
  }
}
