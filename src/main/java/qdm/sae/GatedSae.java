package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.nn.core.Linear;

/**
 * The gated SAE (SAELens {@code gated}, Rajamanoharan et al. 2024): a feature is on where the gate
 * {@code x W_enc + b_gate} is positive, and its value is the magnitude {@code relu(x (W_enc *
 * exp(r_mag)) + b_mag)}; {@code x} preprocessed as every SAE's. The gate bias is the base class's
 * encoder bias, so {@link #preActivations} is the gate.
 */
final class GatedSae extends Sae {
  private final NDArray magnitudeRows; // (W_enc * exp(r_mag))^T [d_sae, d_in]
  private final NDArray bMag;

  GatedSae(SaeConfig config, SaeTensors weights) {
    super(config, weights);
    NDArray rMag = weights.extra("r_mag");
    this.magnitudeRows = weights.wEnc().mul(rMag.exp().reshape(1, -1)).transpose();
    this.bMag = weights.extra("b_mag");
  }

  @Override
  protected NDArray activations(NDArray x) {
    NDArray gate = preActivations(x);
    NDArray magnitude = Linear.linear(preprocess(x), magnitudeRows, bMag).singletonOrThrow();
    NDArray zero = magnitude.getManager().create(0f);
    return NDArrays.where(gate.gt(0f), magnitude.maximum(zero), zero);
  }

  @Override
  protected NDArray activate(NDArray pre) {
    throw new UnsupportedOperationException("a gated SAE's activations need its input");
  }

  @Override
  protected SparseCodes sparseCodesOfRows(NDArray rows) {
    return sparse(activations(rows));
  }
}
