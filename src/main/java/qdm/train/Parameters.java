package qdm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.optimizer.Optimizer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import qdm.io.HostTensor;

/**
 * Named float32 arrays that require gradients, under one manager: the trainable state of a model or
 * an SAE. Gradients accumulate in PyTorch until {@link #step} applies and clears them.
 */
public final class Parameters implements AutoCloseable {
  private final NDManager manager;
  private final Map<String, NDArray> arrays;

  private Parameters(NDManager manager, Map<String, NDArray> arrays) {
    this.manager = manager;
    this.arrays = Collections.unmodifiableMap(arrays);
  }

  /** Parameters with the given initial values, under a new child of {@code parent}. */
  public static Parameters of(NDManager parent, Map<String, HostTensor> initial) {
    NDManager manager = parent.newSubManager();
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    for (Map.Entry<String, HostTensor> e : initial.entrySet()) {
      NDArray a = manager.create(e.getValue().data(), new Shape(e.getValue().shape()));
      a.setRequiresGradient(true);
      arrays.put(e.getKey(), a);
    }
    return new Parameters(manager, arrays);
  }

  /** The manager owning the arrays (a model built over them closes with it). */
  public NDManager manager() {
    return manager;
  }

  public NDArray get(String name) {
    NDArray a = arrays.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no parameter named " + name);
    }
    return a;
  }

  /** All arrays by name, in creation order. */
  public Map<String, NDArray> arrays() {
    return arrays;
  }

  /**
   * Scales the accumulated gradients so that their global L2 norm is at most {@code maxNorm} (no-op
   * when {@code maxNorm <= 0}) and returns the norm before scaling.
   */
  public double clipGradientNorm(double maxNorm) {
    try (NDManager scratch = manager.newSubManager()) {
      double sumSquares = 0;
      for (NDArray a : arrays.values()) {
        NDArray g = a.getGradient();
        g.attach(scratch);
        sumSquares += g.square().sum().getFloat();
      }
      double norm = Math.sqrt(sumSquares);
      if (maxNorm > 0 && norm > maxNorm) {
        float scale = (float) (maxNorm / (norm + 1e-6));
        for (NDArray a : arrays.values()) {
          NDArray g = a.getGradient();
          g.attach(scratch);
          g.muli(scale);
        }
      }
      return norm;
    }
  }

  /**
   * Applies one optimizer update to every parameter (each name's optimizer chosen by {@code
   * optimizerOf}) and zeroes the gradients for the next step.
   */
  public void step(Function<String, Optimizer> optimizerOf) {
    try (NDManager scratch = manager.newSubManager()) {
      for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
        NDArray g = e.getValue().getGradient();
        g.attach(scratch);
        optimizerOf.apply(e.getKey()).update(e.getKey(), e.getValue(), g);
        g.muli(0f);
      }
    }
  }

  /** A copy of every parameter on the Java heap. */
  public Map<String, HostTensor> toHost() {
    Map<String, HostTensor> out = new LinkedHashMap<>();
    arrays.forEach(
        (name, a) -> out.put(name, new HostTensor(a.getShape().getShape(), a.toFloatArray())));
    return out;
  }

  @Override
  public void close() {
    manager.close();
  }
}
