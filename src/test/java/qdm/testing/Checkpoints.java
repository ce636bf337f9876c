package qdm.testing;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import qdm.io.HostTensor;
import qdm.io.SafetensorsFile;
import qdm.io.SafetensorsWriter;

/** Rewrites real safetensors files with some tensors changed, added or removed (F32 out). */
public final class Checkpoints {
  private Checkpoints() {}

  /** Every tensor of {@code file}, widened to float32, in header order. */
  public static Map<String, HostTensor> read(Path file) {
    Map<String, HostTensor> out = new LinkedHashMap<>();
    try (SafetensorsFile st = SafetensorsFile.open(file)) {
      for (String name : st.names()) {
        out.put(name, new HostTensor(st.info(name).shape(), st.readFloats(name)));
      }
    }
    return out;
  }

  /** Reads {@code file}, lets {@code edit} change the tensors, and writes it back in place. */
  public static void rewrite(Path file, Consumer<Map<String, HostTensor>> edit) {
    Map<String, HostTensor> tensors = read(file);
    edit.accept(tensors);
    SafetensorsWriter w = new SafetensorsWriter();
    tensors.forEach(w::add);
    w.write(file);
  }

  /** Sets element {@code index} of tensor {@code name} to {@code value} in place. */
  public static void set(Path file, String name, int index, float value) {
    rewrite(file, t -> t.get(name).data()[index] = value);
  }
}
