package qdm.sae;

import ai.djl.ndarray.NDArray;

/**
 * Folding a constant input scale s into an SAE's weights, so the SAE reads unscaled activations:
 * encoding (s x - b_dec) W_enc + b_enc equals (x - b_dec / s) (s W_enc) + b_enc, and decoding a
 * W_dec / s + b_dec / s returns the reconstruction in the unscaled space. JumpReLU thresholds and
 * b_enc apply to pre-activations, which do not change. This is SAELens' {@code
 * fold_activation_norm_scaling_factor}.
 */
final class Normalization {
  private Normalization() {}

  /** The weights with s folded in (the replaced arrays are closed); unchanged for s = 1. */
  static SaeTensors fold(SaeTensors w, double s) {
    if (s == 1.0) {
      return w;
    }
    float f = (float) s;
    NDArray wEnc = w.wEnc().mul(f);
    NDArray wDec = w.wDec().div(f);
    NDArray bDec = w.bDec().div(f);
    w.wEnc().close();
    w.wDec().close();
    w.bDec().close();
    return new SaeTensors(w.manager(), wEnc, w.bEnc(), wDec, bDec, w.threshold(), w.extras());
  }
}
