package qdm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import qdm.QdmException;
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
  /** Elements per host block when copying a tensor to the device. */

  private WeightsLoader() {}

  /** Loads all tensors of {@code specs} from {@code store} under a new child of {@code parent}. */
  public static Weights load(TensorStore store, List<TensorSpec> specs, NDManager parent,
      DataType dtype) {
    check(store, specs);
    NDManager manager = parent.newSubManager();
    try {
      Map<String, NDArray> arrays = new LinkedHashMap<>();
      Map<String, NDArray> loaded = new LinkedHashMap<>();
      Map<String, TensorRole> roles = new LinkedHashMap<>();
      for (TensorSpec spec : specs) {
        String source = store.contains(spec.name()) ? spec.name() : spec.tiedTo().orElseThrow();
        NDArray array = loaded.get(source);
        if (array == null) {
          array = DeviceTensors.read(store, source, manager, dtype);
          loaded.put(source, array);
        }
        arrays.put(spec.name(), array);
        roles.put(spec.name(), spec.role());
      }
      return new Weights(manager, arrays, roles);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** Checks presence and shape of every spec; throws one message listing every problem. */
  public static void check(TensorStore store, List<TensorSpec> specs) {
    List<String> problems = new ArrayList<>();
    for (TensorSpec spec : specs) {
      String name = spec.name();
      if (!store.contains(name)) {
        if (spec.tiedTo().isPresent() && store.contains(spec.tiedTo().get())) {
          name = spec.tiedTo().get();
        } else {
          problems.add("missing tensor '" + spec.name() + "' (expected shape "
              + Arrays.toString(spec.shape()) + ")");
          continue;
        }
      }
      TensorInfo info = store.info(name);
      if (!Arrays.equals(info.shape(), spec.shape())) {
        problems.add("tensor '" + name + "' has shape " + info.shapeString() + ", expected "
            + Arrays.toString(spec.shape()));
      } else if (!info.dtype().isFloat()) {
        problems.add("tensor '" + name + "' has dtype " + info.dtype()
            + ", expected a floating point type");
      }
    }
    if (!problems.isEmpty()) {
      throw new QdmException(store.source() + ": " + problems.size()
          + " problem(s) with the checkpoint:\n  " + String.join("\n  ", problems));
    }
  }
}
