package qdm.probe;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import qdm.io.HostTensor;
import qdm.io.SafetensorsWriter;

/** The named float32 tensors of one probed forward pass, in output order. */
public final class ForwardOutput {
  private final Map<String, HostTensor> tensors = new LinkedHashMap<>();

  void put(String name, HostTensor t) {
    tensors.put(name, t);
  }

  public Map<String, HostTensor> tensors() {
    return Collections.unmodifiableMap(tensors);
  }

  public HostTensor get(String name) {
    return tensors.get(name);
  }

  /** Writes every tensor as F32 safetensors (atomically). */
  public void write(Path file) {
    SafetensorsWriter w = new SafetensorsWriter();
    tensors.forEach(w::add);
    w.metadata("producer", "qdm forward");
    w.write(file);
  }
}
