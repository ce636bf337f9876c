package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import qdm.QdmException;
import qdm.io.TensorInfo;
import qdm.io.TensorStore;
import qdm.model.DeviceTensors;
import qdm.model.HookPoint;

/** What the format loaders share: shape checks, hook resolution and moving tensors to a device. */
final class SaeFiles {
  /** Elements per host block when copying a tensor to the device. */
  private SaeFiles() {}

  /**
   * Collects every problem with the tensors of a store, to report them in one message: missing
   * tensors, wrong shapes, non-float types, and tensors the format does not know.
   */
  static final class ShapeCheck {
    private final TensorStore store;
    private final Set<String> known = new LinkedHashSet<>();
    private final List<String> problems = new ArrayList<>();

    ShapeCheck(TensorStore store) {
      this.store = store;
    }

    /** Requires tensor {@code name} with {@code shape}. */
    ShapeCheck require(String name, long... shape) {
      known.add(name);
      if (!store.contains(name)) {
        problems.add(
            "missing tensor '" + name + "' (expected shape " + Arrays.toString(shape) + ")");
      } else {
        check(name, shape);
      }
      return this;
    }

    /** Checks tensor {@code name} against {@code shape} if it is present. */
    ShapeCheck optional(String name, long... shape) {
      known.add(name);
      if (store.contains(name)) {
        check(name, shape);
      }
      return this;
    }

    private void check(String name, long[] shape) {
      TensorInfo info = store.info(name);
      if (!Arrays.equals(info.shape(), shape)) {
        problems.add(
            "tensor '"
                + name
                + "' has shape "
                + info.shapeString()
                + ", expected "
                + Arrays.toString(shape));
      } else if (!info.dtype().isFloat()) {
        problems.add(
            "tensor '" + name + "' has dtype " + info.dtype() + ", expected a floating point type");
      }
    }

    /** Throws one {@link QdmException} listing every problem, unknown tensors included. */
    void done(String what) {
      for (String name : store.names()) {
        if (!known.contains(name)) {
          problems.add(
              "unexpected tensor '"
                  + name
                  + "' (a "
                  + what
                  + " has "
                  + String.join(", ", known)
                  + ")");
        }
      }
      if (!problems.isEmpty()) {
        throw new QdmException(
            store.source()
                + ": "
                + problems.size()
                + " problem(s) with the "
                + what
                + ":\n  "
                + String.join("\n  ", problems));
      }
    }
  }

  /**
   * The hook an SAE reads: the one its files name, the one the user gave, or both if they agree.
   *
   * @param fromFiles the hook the files name, if any
   * @param where the file or key the hook came from, for messages
   */
  static HookPoint hook(Optional<String> fromFiles, String where, Optional<HookPoint> given) {
    Optional<HookPoint> parsed =
        fromFiles.map(
            name -> {
              try {
                return HookPoint.parse(name);
              } catch (QdmException e) {
                throw new QdmException(where + ": " + e.getMessage(), e);
              }
            });
    if (parsed.isPresent() && given.isPresent() && !parsed.get().equals(given.get())) {
      throw new QdmException(
          where
              + " says the SAE reads "
              + parsed.get()
              + ", but hook "
              + given.get()
              + " was given");
    }
    return parsed
        .or(() -> given)
        .orElseThrow(
            () ->
                new QdmException(
                    where
                        + ": cannot tell which hook the SAE reads; give it explicitly (e.g. "
                        + "blocks.6.hook_resid_post)"));
  }

  /** Reads a float tensor onto {@code manager}'s device as float32. */
  static NDArray read(TensorStore store, String name, NDManager manager) {
    return DeviceTensors.read(store, name, manager, DataType.FLOAT32);
  }

  /** {@code path} as an absolute, normalized string with {@code /} separators, for matching. */
  static String pathText(Path path) {
    return path.toAbsolutePath().normalize().toString().replace('\\', '/');
  }
}
