package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;

/**
 * TopK (sparsify, SAELens {@code topk}): per token, the k largest pre-activations are kept, ReLU'd,
 * and every other feature is 0. SAELens ReLUs the top k pre-activations, sparsify takes the top k
 * of the ReLU'd pre-activations; both give these activations (they can only differ in which zeros
 * they list). The top k are found once, on the [N, d_sae] pre-activations directly.
 */
final class TopKSae extends Sae {
  private final int k;

  TopKSae(SaeConfig config, SaeTensors weights) {
    super(config, weights);
    this.k = config.k().orElseThrow();
  }

  /** Values (ReLU'd) and feature indices of the k largest pre-activations per token. */
  private NDList top(NDArray pre) {
    NDList top = pre.topK(k, -1, true, false);
    return new NDList(Activation.relu(top.get(0)), top.get(1));
  }

  @Override
  protected NDArray activate(NDArray pre) {
    NDList top = top(pre);
    return pre.zerosLike().scatter(top.get(1), top.get(0), -1);
  }

  @Override
  protected SparseCodes sparseCodes(NDArray pre) {
    NDList top = top(pre);
    NDArray order = top.get(1).argSort(-1); // each token's features in ascending order
    int[] features = top.get(1).gather(order, -1).toType(DataType.INT32, false).toIntArray();
    float[] values = top.get(0).gather(order, -1).toFloatArray();
    int n = 0;
    for (float v : values) {
      n += v > 0 ? 1 : 0;
    }
    int[] token = new int[n];
    int[] feature = new int[n];
    float[] activation = new float[n];
    for (int i = 0, j = 0; i < values.length; i++) {
      if (values[i] > 0) {
        token[j] = i / k;
        feature[j] = features[i];
        activation[j++] = values[i];
      }
    }
    return new SparseCodes(values.length / k, config().dSae(), token, feature, activation);
  }
}
