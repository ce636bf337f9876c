package qdm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import qdm.io.HostTensor;
import qdm.model.Ops;

/**
 * A trained sparse autoencoder in SAELens's layout, acting on raw activations: {@code f = act((x -
 * b_dec) W_enc + b_enc)}, {@code x_hat = f W_dec + b_dec}, where act is ReLU ({@code standard}) or
 * ReLU of the {@code k} largest pre-activations ({@code topk}).
 *
 * @param wEnc [d_in, d_sae]
 * @param bEnc [d_sae]
 * @param wDec [d_sae, d_in]
 * @param bDec [d_in]
 * @param k features kept per token for {@code topk}; unused for {@code standard}
 */
public record TrainedSae(
    String architecture,
    HostTensor wEnc,
    HostTensor bEnc,
    HostTensor wDec,
    HostTensor bDec,
    int k) {

  public TrainedSae {
    int dIn = (int) wEnc.dim(0);
    int dSae = (int) wEnc.dim(1);
    if (wEnc.rank() != 2
        || bEnc.rank() != 1
        || bEnc.dim(0) != dSae
        || wDec.rank() != 2
        || wDec.dim(0) != dSae
        || wDec.dim(1) != dIn
        || bDec.rank() != 1
        || bDec.dim(0) != dIn) {
      throw new IllegalArgumentException(
          "inconsistent SAE shapes: W_enc "
              + wEnc
              + ", b_enc "
              + bEnc
              + ", W_dec "
              + wDec
              + ", b_dec "
              + bDec);
    }
  }

  public int dIn() {
    return (int) wEnc.dim(0);
  }

  public int dSae() {
    return (int) wEnc.dim(1);
  }

  /** Feature activations [n, d_sae] of raw activations {@code x} [n, d_in] (no gradient). */
  public NDArray encode(NDArray x, OnDevice arrays) {
    NDArray pre = x.sub(arrays.bDec).matMul(arrays.wEnc).add(arrays.bEnc);
    return activate(pre, architecture, k);
  }

  /** The SAE's activation rule on pre-activations [n, d_sae]. */
  static NDArray activate(NDArray pre, String architecture, int k) {
    NDArray relu = pre.maximum(Ops.scalar(pre, 0));
    if (!architecture.equals(SaeOptions.TOPK)) {
      return relu;
    }
    // keep the k largest pre-activations of each row: those at or above the k-th largest
    NDArray kth = pre.topK(k, -1, true, true).get(0).get("..., -1:");
    return relu.mul(pre.gte(kth).toType(DataType.FLOAT32, false));
  }

  /** The weights as arrays on a device, for batched encoding. */
  public OnDevice arrays(NDManager manager) {
    return new OnDevice(
        create(manager, wEnc), create(manager, bEnc), create(manager, wDec), create(manager, bDec));
  }

  private static NDArray create(NDManager m, HostTensor t) {
    return m.create(t.data(), new Shape(t.shape()));
  }

  /** The four tensors as NDArrays. */
  public record OnDevice(NDArray wEnc, NDArray bEnc, NDArray wDec, NDArray bDec) {}
}
