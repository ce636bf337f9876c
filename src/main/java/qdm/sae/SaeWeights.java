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
 */
record SaeWeights(NDManager manager, NDArray wEnc, NDArray bEnc, NDArray wDec, NDArray bDec,
    Optional<NDArray> threshold) {}
