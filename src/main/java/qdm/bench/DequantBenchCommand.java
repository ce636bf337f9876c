package qdm.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import qdm.io.TensorStore;
import qdm.model.CheckpointSource;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.TensorSpec;

/**
 * {@code qdm bench dequant}: how fast a checkpoint of any format QDM reads (GGUF, GPTQ, AWQ,
 * compressed-tensors, bitsandbytes, dense) dequantizes, streamed tensor by tensor in pieces as the
 * loader reads it, and the most heap it took: the figure behind "a 5 GB GGUF does not need 5 GB of
 * heap".
 */
@Command(
    name = "dequant",
    mixinStandardHelpOptions = true,
    description = {
      "Time the dequantization of a checkpoint (every tensor the architecture "
          + "reads, streamed in 1 M-element pieces) and report the peak heap."
    })
public final class DequantBenchCommand implements Callable<Integer> {
  private static final int PIECE = 1 << 20;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description = "The model directory (its config.json gives the architecture).")
  Path model;

  @Option(
      names = "--weights",
      paramLabel = "FILE",
      description =
          "A weights file of that architecture (.gguf, quantized or dense "
              + "safetensors) instead of the directory's.")
  Path weights;

  @Option(names = "--format", paramLabel = "FORMAT", description = "Override the detected format.")
  String format;

  @Override
  public Integer call() {
    ModelFiles files =
        new ModelFiles(model, Optional.ofNullable(weights), Optional.ofNullable(format));
    var config = Model.readConfig(files);
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      p.resetPeakUsage();
    }
    long start = System.nanoTime();
    long elements = 0;
    double checksum = 0;
    String what;
    try (TensorStore store = Model.openCheckpoint(files)) {
      what = CheckpointSource.describe(store);
      float[] piece = new float[PIECE];
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (TensorSpec s : config.tensors()) {
        String name = store.contains(s.name()) ? s.name() : s.tiedTo().orElse(s.name());
        if (!seen.add(name)) {
          continue;
        }
        long n = store.info(name).numel();
        for (long at = 0; at < n; at += PIECE) {
          int len = (int) Math.min(PIECE, n - at);
          store.readFloats(name, at, piece, 0, len);
          checksum += piece[0];
        }
        elements += n;
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long peak = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        peak += p.getPeakUsage().getUsed();
      }
    }
    System.out.printf(Locale.ROOT, "dequant: %s, %s%n", files.weights(), what);
    System.out.printf(
        Locale.ROOT,
        "  %,d elements (%.2f GB as float32) in %.1f s: %.1f M "
            + "elements/s; peak heap %d MiB of %d MiB (checksum %.3g)%n",
        elements,
        elements * 4 / 1e9,
        seconds,
        elements / seconds / 1e6,
        peak >> 20,
        Runtime.getRuntime().maxMemory() >> 20,
        checksum);
    return 0;
  }
}
