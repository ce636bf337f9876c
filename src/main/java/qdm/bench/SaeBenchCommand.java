package qdm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import qdm.model.Placement;
import qdm.model.TorchEngine;
import qdm.sae.RandomSae;
import qdm.sae.Sae;
import qdm.sae.SparseCodes;

/**
 * {@code qdm bench sae}: SAE encode throughput on random weights and inputs, including the
 * extraction of the sparse codes to the host (what the encode stage does per batch).
 */
@Command(
    name = "sae",
    mixinStandardHelpOptions = true,
    description = {
      "SAE encode throughput, sparse extraction to the host included.",
      "Tokens/s and GFLOP/s of the encoder matmul. Defaults: the Pythia-70M SAE shape",
      "(d_in 512 x d_sae 32768) at batch 8 x 512 tokens."
    })
public final class SaeBenchCommand implements Callable<Integer> {

  @Option(names = "--d-in", defaultValue = "512", description = "Input width (${DEFAULT-VALUE}).")
  int dIn;

  @Option(
      names = "--d-sae",
      defaultValue = "32768",
      description = "Number of features (${DEFAULT-VALUE}).")
  int dSae;

  @Option(
      names = "--batch",
      defaultValue = "8",
      description = "Sequences per batch " + "(${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--seq",
      defaultValue = "512",
      description = "Tokens per sequence " + "(${DEFAULT-VALUE}).")
  int seq;

  @Option(
      names = "--arch",
      defaultValue = "standard",
      description = "standard, jumprelu or topk (${DEFAULT-VALUE}).")
  String arch;

  @Option(
      names = "--l0",
      defaultValue = "64",
      description =
          "Features firing per token on the random inputs (topk: k) " + "(${DEFAULT-VALUE}).")
  int l0;

  @Option(
      names = "--iters",
      defaultValue = "5",
      description = "Timed batches " + "(${DEFAULT-VALUE}).")
  int iters;

  @Option(
      names = "--warmup",
      defaultValue = "2",
      description = "Untimed batches first " + "(${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--device",
      defaultValue = "cpu",
      description = "cpu, gpu or gpu:N " + "(${DEFAULT-VALUE}).")
  String device;

  @Override
  public Integer call() {
    Device d = Placement.parseDevice(device);
    long tokens = (long) batch * seq;
    double flops = 2.0 * tokens * dIn * dSae; // the encoder matmul; decode is not timed
    try (NDManager root = TorchEngine.newManager(d);
        Sae sae = RandomSae.create(arch, dIn, dSae, l0, root, 1234)) {
      System.out.printf(
          Locale.ROOT,
          "qdm bench sae: %s (%d cores), %s%n",
          d,
          java.lang.Runtime.getRuntime().availableProcessors(),
          sae);
      java.lang.management.OperatingSystemMXBean os =
          java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      long cpu0 = CpuClock.processNanos();
      long wall0 = System.nanoTime();
      double sparseSeconds = 0;
      double denseSeconds = 0;
      long nonZeros = 0;
      for (int i = 0; i < warmup + iters; i++) {
        try (NDManager step = root.newSubManager()) {
          NDArray x = step.randomNormal(0f, 1f, new Shape(tokens, dIn), DataType.FLOAT32);
          x.toFloatArray(); // inputs exist before the clock starts (a GPU is asynchronous)
          long t0 = System.nanoTime();
          SparseCodes codes = sae.encodeSparse(x);
          long t1 = System.nanoTime();
          NDArray dense = sae.encode(x);
          dense.get(0).toFloatArray(); // wait for the device
          long t2 = System.nanoTime();
          if (i >= warmup) {
            sparseSeconds += (t1 - t0) / 1e9;
            denseSeconds += (t2 - t1) / 1e9;
            nonZeros += codes.size();
          }
        }
      }
      double perBatch = sparseSeconds / iters;
      System.out.printf(
          Locale.ROOT,
          "shape d_in %d x d_sae %d, batch %d x %d = %d tokens, "
              + "%d timed batches after %d warm-up%n",
          dIn,
          dSae,
          batch,
          seq,
          tokens,
          iters,
          warmup);
      System.out.printf(
          Locale.ROOT,
          "encode + sparse to host: %.1f ms/batch, %.0f tokens/s, " + "%.1f GFLOP/s (L0 %.1f)%n",
          perBatch * 1e3,
          tokens / perBatch,
          flops / perBatch / 1e9,
          (double) nonZeros / iters / tokens);
      System.out.printf(
          Locale.ROOT,
          "dense encode on the device: %.1f ms/batch, %.0f tokens/s," + " %.1f GFLOP/s%n",
          denseSeconds / iters * 1e3,
          tokens / (denseSeconds / iters),
          flops / (denseSeconds / iters) / 1e9);
      // on a shared machine the figures above scale with the CPU this process actually got
      double cores = CpuClock.coresSince(cpu0, wall0);
      System.out.printf(
          Locale.ROOT,
          "cpu used: %.2f cores on average; system load average " + "%.1f%n",
          cores,
          os.getSystemLoadAverage());
    }
    return 0;
  }
}
