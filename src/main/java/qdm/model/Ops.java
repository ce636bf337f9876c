package qdm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;

/**
 * The layer functions architectures are written in. DJL lacks RMSNorm and tanh-GELU, so they are
 * built here from basic ops; every function takes the activation as its first operand so results
 * stay under the activation's (per-batch) manager.
 */
public final class Ops {
  private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

  private Ops() {}

  /** {@code x W^T + b} for weight [out, in] (Hugging Face layout); {@code bias} may be null. */
  public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
    return (bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias))
        .singletonOrThrow();
  }

  /** LayerNorm over the last axis with affine weight and bias. */
  public static NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, float eps) {
    Shape last = new Shape(x.getShape().get(x.getShape().dimension() - 1));
    return LayerNorm.layerNorm(x, last, weight, bias, eps).singletonOrThrow();
  }

  /**
   * Gemma's RMSNorm: {@code x * rsqrt(mean(x^2) + eps) * (1 + w)}, computed in float32 and cast
   * back to the input dtype (as transformers' {@code Gemma2RMSNorm}).
   */
  public static NDArray gemmaRmsNorm(NDArray x, NDArray weight, float eps) {
    DataType dtype = x.getDataType();
    NDArray x32 = dtype == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
    // 1 + w made under x's manager (an op on the weight first would attach to the model's)
    NDArray scale = x32.getManager().ones(weight.getShape(), DataType.FLOAT32).add(weight);
    NDArray rms = x32.square().mean(new int[] {-1}, true).add(scalar(x32, eps)).sqrt();
    NDArray out = x32.div(rms).mul(scale);
    return dtype == DataType.FLOAT32 ? out : out.toType(dtype, false);
  }

  /**
   * RMSNorm as Llama, Qwen2 and Mistral write it: {@code w * (x * rsqrt(mean(x^2) + eps))}, the
   * normalization in float32 and cast back to the input dtype before the weight multiplies
   * (transformers' {@code LlamaRMSNorm}).
   */
  public static NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
    DataType dtype = x.getDataType();
    NDArray x32 = dtype == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
    NDArray rms = x32.square().mean(new int[] {-1}, true).add(scalar(x32, eps)).sqrt();
    NDArray normed = x32.div(rms);
    if (dtype != DataType.FLOAT32) {
      normed = normed.toType(dtype, false);
    }
    return normed.mul(weight);
  }

  /** SiLU, {@code x * sigmoid(x)} (Llama's gate activation, {@code hidden_act = silu}). */
  public static NDArray silu(NDArray x) {
    return x.mul(ai.djl.nn.Activation.sigmoid(x));
  }

  /**
   * {@code value} as a 0-d float32 tensor under {@code like}'s manager, allocated by libtorch.
   *
   * <p>Use it instead of DJL's scalar overloads ({@code mul(float)}, {@code muli(float)}, {@code
   * maximum(0f)}...) wherever a gradient may flow. On the CPU those overloads wrap a Java direct
   * buffer without copying ({@code torch::from_blob}) and close the scalar right after the op,
   * which releases the buffer to the garbage collector, while autograd has kept the scalar for the
   * backward pass (the backward of a product needs the other factor). Once the JVM frees the buffer
   * and the memory is reused, backward reads garbage: wrong gradients or NaN, at a step that
   * depends on garbage collection. That made seeded LM training runs diverge from each other (and
   * gave NaN gradients through the chunked NLL). The value and dtype are those of DJL's overloads,
   * so results are bit for bit the same.
   */
  public static NDArray scalar(NDArray like, double value) {
    return like.getManager().full(new Shape(), (float) value, DataType.FLOAT32);
  }

  /** Exact GELU, {@code 0.5 x (1 + erf(x / sqrt 2))} (GPT-NeoX / Pythia "gelu"). */
  public static NDArray gelu(NDArray x) {
    return x.getNDArrayInternal().gelu();
  }

  /** GELU, tanh approximation ({@code gelu_pytorch_tanh}, Gemma-2). */
  public static NDArray geluTanh(NDArray x) {
    NDArray inner =
        x.pow(scalar(x, 3)).mul(scalar(x, 0.044715f)).add(x).mul(scalar(x, (float) SQRT_2_OVER_PI));
    return x.mul(inner.tanh().add(scalar(x, 1))).mul(scalar(x, 0.5));
  }

  /**
   * Concatenates {@code parts} along {@code axis}, keeping the autograd graph. DJL's {@code
   * NDArrays.concat} returns a duplicate of a single part, and the PyTorch engine's duplicate is
   * detached from the graph, which silently cut the training loss off from the weights; a single
   * part is returned as is instead.
   */
  public static NDArray concat(NDList parts, int axis) {
    return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, axis);
  }
}
