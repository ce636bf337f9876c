package qdm.train;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code training.json} a training command leaves next to what it wrote: its options and the
 * figures it reported, so a shipped model or SAE says how it was made.
 */
public final class TrainingRecord {
  /** The file name, in the model or SAE directory. */
  public static final String FILE = "training.json";

  private TrainingRecord() {}

  /**
   * Writes {@code record}, plus the CPU kernel settings of this process ({@link CpuKernels}), as
   * pretty-printed JSON to {@code dir/training.json}; {@code record} itself is left as it is.
   */
  public static void write(Path dir, JsonObject record) {
    JsonObject out = record.deepCopy();
    out.add("cpu_kernels", CpuKernels.current().toJson());
    try {
      Files.writeString(
          dir.resolve(FILE),
          new GsonBuilder().setPrettyPrinting().create().toJson(out) + "\n",
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
