package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Optional;

/**
 * An SAE's float32 weights on one device, under {@code manager} (closing it frees them), in the
 * SAELens layout whatever the file format.
 *
 * @param wEnc encoder [d_in, d_sae]
 * @param bEnc encoder bias [d_sae]
 * @param wDec decoder [d_sae, d_in]
 * @param bDec decoder bias [d_in]
 * @param threshold per-feature JumpReLU threshold [d_sae], for {@code jumprelu} only
 * @param extras an architecture's other tensors by SAELens name ({@code gated}: {@code r_mag},
 *     {@code b_mag}; {@code b_gate} is {@code bEnc})
 */
record SaeTensors(
    NDManager manager,
    NDArray wEnc,
    NDArray bEnc,
    NDArray wDec,
    NDArray bDec,
    Optional<NDArray> threshold,
    java.util.Map<String, NDArray> extras) {

  SaeTensors(
      NDManager manager,
      NDArray wEnc,
      NDArray bEnc,
      NDArray wDec,
      NDArray bDec,
      Optional<NDArray> threshold) {
    this(manager, wEnc, bEnc, wDec, bDec, threshold, java.util.Map.of());
  }

  /** An architecture's extra tensor. */
  NDArray extra(String name) {
    NDArray a = extras.get(name);
    if (a == null) {
      throw new IllegalStateException("no SAE tensor " + name);
    }
    return a;
  }
}
