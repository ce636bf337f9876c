package qdm.compress;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import java.util.Random;
import qdm.model.Model;
import qdm.model.Nonlinearity;
import qdm.model.TensorRole;
import qdm.model.TorchEngine;
import qdm.model.Weights;
import qdm.model.neox.GptNeoXConfig;

/**
 * A tiny random GPT-NeoX (d 8, ff 16, vocab 16) whose tensors tests overwrite with chosen values:
 * weights of a real layout with exactly the contents a test needs.
 */
final class TinyWeights implements AutoCloseable {
  final NDManager root;
  final Model model;

  TinyWeights(int layers, DataType dtype) {
    root = TorchEngine.newManager(Device.cpu());
    GptNeoXConfig config =
        new GptNeoXConfig(
            16, 8, layers, 2, 16, 2, 10000, 1e-5f, true, true, false, Nonlinearity.GELU);
    model = Model.random(config, root, Device.cpu(), dtype, 0.5f, 7);
  }

  /** Names with role {@code role}, in checkpoint order. */
  List<String> names(TensorRole role) {
    return model.weights().names().stream().filter(n -> model.weights().role(n) == role).toList();
  }

  long[] shape(String name) {
    return model.weights().get(name).getShape().getShape();
  }

  /** The base weights with the given tensors replaced (values in float32, cast to the dtype). */
  Weights with(Map<String, float[]> values) {
    return model
        .weights()
        .derive(
            (name, m) -> {
              float[] v = values.get(name);
              if (v == null) {
                return null;
              }
              NDArray base = model.weights().get(name);
              return m.create(v, new Shape(shape(name))).toType(base.getDataType(), false);
            });
  }

  /** Fills every decoder linear tensor from {@code fill(name, numel)}. */
  Weights withLinear(java.util.function.BiFunction<String, Integer, float[]> fill) {
    Map<String, float[]> values = new java.util.LinkedHashMap<>();
    for (String name : names(TensorRole.DECODER_LINEAR)) {
      values.put(name, fill.apply(name, (int) model.weights().get(name).size()));
    }
    return with(values);
  }

  /** A tensor's values as float32 on the host. */
  static float[] host(Weights w, String name) {
    NDArray a = w.get(name);
    if (a.getDataType() == DataType.FLOAT32) {
      return a.toFloatArray();
    }
    try (NDManager m = w.manager().newSubManager()) {
      NDArray f = a.toType(DataType.FLOAT32, false);
      f.attach(m);
      return f.toFloatArray();
    }
  }

  /** Normal random values with the given std. */
  static float[] normal(int n, double std, Random random) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (random.nextGaussian() * std);
    }
    return v;
  }

  @Override
  public void close() {
    model.close();
    root.close();
  }
}
