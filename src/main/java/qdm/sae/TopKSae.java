package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;

/**
 * TopK (sparsify, SAELens {@code topk}): per token, the k largest of {@code ReLU(pre)} are kept
 * and every other feature is 0. sparsify takes the top k of the ReLU'd pre-activations, SAELens
 * ReLUs the top k pre-activations; both give the same activations.
 */
final class TopKSae extends Sae {
  private final int k;

  TopKSae(SaeConfig config, SaeWeights weights) {
    super(config, weights);
    this.k = config.k().orElseThrow();
  }

  @Override
  protected NDArray activate(NDArray pre) {
    NDArray relu = Activation.relu(pre);
    NDList top = relu.topK(k, -1, true, false); // values, indices
    return relu.zerosLike().scatter(top.get(1), top.get(0), -1);
  }
}
