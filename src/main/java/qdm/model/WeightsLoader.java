package qdm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import qdm.QdmException;
import qdm.io.FiniteTensors;
import qdm.io.TensorInfo;
import qdm.io.TensorStore;

/**
 * Moves a checkpoint's tensors onto a device as the architecture's {@link TensorSpec}s describe.
 *
 * <p>Every spec is checked against the checkpoint before anything is loaded, and all problems are
 * reported in one message. Tensors are widened to float32 in Java (BF16 never becomes an NDArray)
 * and created in row blocks, so a tensor larger than one 2 GiB Java buffer loads too.
 */
public final class WeightsLoader {
  private WeightsLoader() {}

  /** Loads all tensors of {@code specs} from {@code store} under a new child of {@code parent}. */
  public static Weights load(
      TensorStore store, List<TensorSpec> specs, NDManager parent, DataType dtype) {
    check(store, specs);
    NDManager manager = parent.newSubManager();
    try {
      Map<String, NDArray> arrays = new LinkedHashMap<>();
      Map<String, NDArray> loaded = new LinkedHashMap<>();
      Map<String, TensorSpec> byName = new LinkedHashMap<>();
      for (TensorSpec spec : specs) {
        String source = store.contains(spec.name()) ? spec.name() : spec.tiedTo().orElseThrow();
        NDArray array = loaded.get(source);
        if (array == null) {
          array = DeviceTensors.read(store, source, manager, dtype);
          loaded.put(source, array);
        }
        arrays.put(spec.name(), array);
        byName.put(spec.name(), spec);
      }
      return new Weights(manager, arrays, byName);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** Layer index in a tensor name ({@code ...layers.7.}, {@code h.7.}, {@code blocks.7.}). */
  private static final Pattern LAYER = Pattern.compile("(?:^|\\.)(?:layers|h|blocks)\\.(\\d+)\\.");

  /** At most this many unexpected tensor names are listed in a message. */
  private static final int LISTED = 8;

  /**
   * Checks a checkpoint against the model {@code config} describes: every spec present with its
   * shape, and no tensor the architecture does not account for (beyond its {@link
   * ModelConfig#ignoredTensors() known buffers}, and those only for blocks the config has). Throws
   * one message listing every problem.
   */
  public static void check(TensorStore store, ModelConfig config) {
    List<String> problems = new ArrayList<>(problems(store, config.tensors()));
    Set<String> used = new HashSet<>();
    for (TensorSpec spec : config.tensors()) {
      used.add(spec.name());
      spec.tiedTo().ifPresent(used::add);
    }
    List<String> extra = new ArrayList<>();
    int beyond = -1;
    for (String name : store.names()) {
      if (used.contains(name)) {
        continue;
      }
      Matcher m = LAYER.matcher(name);
      int layer = m.find() ? Integer.parseInt(m.group(1)) : -1;
      boolean buffer = config.ignoredTensors().stream().anyMatch(p -> p.matcher(name).matches());
      if (buffer && layer < config.numLayers()) {
        continue;
      }
      extra.add(name);
      if (layer >= config.numLayers()) {
        beyond = Math.max(beyond, layer);
      }
    }
    if (!extra.isEmpty()) {
      problems.add(
          extra.size()
              + " tensor(s) that config.json does not account for: '"
              + String.join("', '", extra.subList(0, Math.min(LISTED, extra.size())))
              + "'"
              + (extra.size() > LISTED ? " and " + (extra.size() - LISTED) + " more" : "")
              + (beyond >= 0
                  ? " (config.json has num_hidden_layers = "
                      + config.numLayers()
                      + " but the file has tensors of layer "
                      + beyond
                      + ", counting from 0)"
                  : "")
              + "; the weights are not the model config.json describes");
    }
    throwIfAny(store, problems);
  }

  /**
   * Scans the tensors of {@code specs} (their tied fallbacks where absent) for NaN and infinities,
   * streamed from the store; see {@link FiniteTensors}.
   */
  public static void requireFinite(TensorStore store, List<TensorSpec> specs) {
    Set<String> names = new LinkedHashSet<>();
    for (TensorSpec spec : specs) {
      names.add(store.contains(spec.name()) ? spec.name() : spec.tiedTo().orElse(spec.name()));
    }
    FiniteTensors.require(store, names);
  }

  /** Checks presence and shape of every spec; throws one message listing every problem. */
  public static void check(TensorStore store, List<TensorSpec> specs) {
    throwIfAny(store, problems(store, specs));
  }

  private static List<String> problems(TensorStore store, List<TensorSpec> specs) {
    List<String> problems = new ArrayList<>();
    for (TensorSpec spec : specs) {
      String name = spec.name();
      if (!store.contains(name)) {
        if (spec.tiedTo().isPresent() && store.contains(spec.tiedTo().get())) {
          name = spec.tiedTo().get();
        } else {
          problems.add(
              "missing tensor '"
                  + spec.name()
                  + "' (expected shape "
                  + Arrays.toString(spec.shape())
                  + ")");
          continue;
        }
      }
      TensorInfo info = store.info(name);
      if (!Arrays.equals(info.shape(), spec.shape())) {
        problems.add(
            "tensor '"
                + name
                + "' has shape "
                + info.shapeString()
                + ", expected "
                + Arrays.toString(spec.shape()));
      } else if (!info.dtype().isFloat()) {
        problems.add(
            "tensor '" + name + "' has dtype " + info.dtype() + ", expected a floating point type");
      }
    }
    return problems;
  }

  private static void throwIfAny(TensorStore store, List<String> problems) {
    if (problems.size() == 1) {
      throw new QdmException(store.source() + ": " + problems.get(0));
    }
    if (!problems.isEmpty()) {
      throw new QdmException(
          store.source()
              + ": "
              + problems.size()
              + " problem(s) with the checkpoint:\n  "
              + String.join("\n  ", problems));
    }
  }
}
