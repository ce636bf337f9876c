package qdm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import qdm.io.TensorStore;

/**
 * A loaded model: its configuration, its base weights on one device, and the forward pass built
 * over them. {@link #withWeights} builds the same architecture over other weights (a compressed
 * copy derived from the base), which is how conditions run without reloading anything.
 */
public final class Model implements AutoCloseable {
  private final Architecture<ModelConfig> architecture;
  private final ModelConfig config;
  private final Weights weights;
  private final Transformer transformer;

  private Model(Architecture<ModelConfig> architecture, ModelConfig config, Weights weights) {
    this.architecture = architecture;
    this.config = config;
    this.weights = weights;
    this.transformer = architecture.build(config, weights);
  }

  /** Reads and validates a model's configuration without loading weights. */
  public static ModelConfig readConfig(ModelFiles files) {
    files.checkExists();
    JsonFields json = JsonFields.read(files.config());
    return Architectures.of(json).parseConfig(json);
  }

  /**
   * The checkpoint of {@code files} as its architecture reads it (names and layouts of {@link
   * ModelConfig#tensors()}); the caller closes it.
   */
  public static TensorStore openCheckpoint(ModelFiles files) {
    files.checkExists();
    JsonFields json = JsonFields.read(files.config());
    return Architectures.of(json).checkpoint(files.openWeights(json));
  }

  /** The context length {@code config.json} states, if any (see Architecture#contextLength). */
  public static java.util.OptionalInt contextLength(ModelFiles files) {
    files.checkExists();
    JsonFields json = JsonFields.read(files.config());
    return Architectures.of(json).contextLength(json);
  }

  /**
   * Loads config and weights onto {@code device} as {@code dtype} (float32, or float16 on a GPU),
   * under a new child of {@code parent}.
   */
  public static Model load(ModelFiles files, NDManager parent, Device device, DataType dtype) {
    return load(files, parent, device, dtype, Processing.NONE);
  }

  /**
   * As {@link #load(ModelFiles, NDManager, Device, DataType)}, then {@code processing} applied to
   * the weights (before anything else sees them: compression acts on processed weights).
   */
  @SuppressWarnings("unchecked")
  public static Model load(
      ModelFiles files, NDManager parent, Device device, DataType dtype, Processing processing) {
    files.checkExists();
    JsonFields json = JsonFields.read(files.config());
    Architecture<ModelConfig> arch = (Architecture<ModelConfig>) Architectures.of(json);
    ModelConfig config = arch.parseConfig(json);
    try (TensorStore store = arch.checkpoint(files.openWeights(json))) {
      WeightsLoader.check(store, config);
      NDManager onDevice = parent.newSubManager(device);
      try {
        Weights weights = WeightsLoader.load(store, config.tensors(), onDevice, dtype);
        if (processing == Processing.TRANSFORMERLENS) {
          Architecture.Processed<ModelConfig> p = arch.transformerLens(config, weights);
          return new Model(arch, p.config(), p.weights());
        }
        return new Model(arch, config, weights);
      } catch (RuntimeException e) {
        onDevice.close();
        throw e;
      }
    }
  }

  /**
   * A model of {@code config}'s shape with random weights (normal, std {@code std}; norm weights 1
   * and biases 0), for benchmarks and tests that need a model of a real size but no checkpoint.
   */
  @SuppressWarnings("unchecked")
  public static Model random(
      ModelConfig config, NDManager parent, Device device, DataType dtype, float std, long seed) {
    Architecture<ModelConfig> arch =
        (Architecture<ModelConfig>) Architectures.byType(config.modelType());
    NDManager onDevice = parent.newSubManager(device);
    onDevice.getEngine().setRandomSeed((int) seed);
    java.util.Map<String, ai.djl.ndarray.NDArray> arrays = new java.util.LinkedHashMap<>();
    java.util.Map<String, TensorSpec> specs = new java.util.LinkedHashMap<>();
    for (TensorSpec spec : config.tensors()) {
      ai.djl.ndarray.types.Shape shape = new ai.djl.ndarray.types.Shape(spec.shape());
      ai.djl.ndarray.NDArray a =
          switch (spec.role()) {
            case NORM ->
                spec.name().endsWith("bias") ? onDevice.zeros(shape) : onDevice.ones(shape);
            case BIAS -> onDevice.zeros(shape);
            default -> onDevice.randomNormal(0f, std, shape, DataType.FLOAT32);
          };
      arrays.put(spec.name(), a.toType(dtype, false));
      specs.put(spec.name(), spec);
    }
    return new Model(arch, config, new Weights(onDevice, arrays, specs));
  }

  /**
   * A model of {@code config}'s architecture over arrays the caller made (a trainer's parameters,
   * say), keyed by Hugging Face name with the shapes {@link ModelConfig#tensors()} lists; a tied
   * tensor may be left out and falls back to the one it is tied to. {@code manager} owns the arrays
   * and is closed with the model.
   *
   * @throws IllegalArgumentException naming every missing or misshapen tensor
   */
  @SuppressWarnings("unchecked")
  public static Model over(ModelConfig config, NDManager manager, Map<String, NDArray> arrays) {
    Architecture<ModelConfig> arch =
        (Architecture<ModelConfig>) Architectures.byType(config.modelType());
    Map<String, NDArray> named = new LinkedHashMap<>();
    Map<String, TensorSpec> specs = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (TensorSpec spec : config.tensors()) {
      NDArray a = arrays.get(spec.name());
      if (a == null && spec.tiedTo().isPresent()) {
        a = arrays.get(spec.tiedTo().get());
      }
      if (a == null) {
        problems.add("missing " + spec);
        continue;
      }
      if (!Arrays.equals(a.getShape().getShape(), spec.shape())) {
        problems.add(spec.name() + " has shape " + a.getShape() + ", expected " + spec);
        continue;
      }
      named.put(spec.name(), a);
      specs.put(spec.name(), spec);
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
    return new Model(arch, config, new Weights(manager, named, specs));
  }

  public ModelConfig config() {
    return config;
  }

  /** The base (uncompressed) weights. */
  public Weights weights() {
    return weights;
  }

  /** The forward pass over the base weights. */
  public Transformer transformer() {
    return transformer;
  }

  /** The forward pass of this architecture over other weights of the same layout. */
  public Transformer withWeights(Weights other) {
    return architecture.build(config, other);
  }

  @Override
  public void close() {
    weights.close();
  }
}
