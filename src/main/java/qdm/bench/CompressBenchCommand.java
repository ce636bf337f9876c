package qdm.bench;

import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import qdm.compress.Compressed;
import qdm.compress.Compression;
import qdm.compress.Convention;
import qdm.condition.ConditionSyntax;
import qdm.model.Model;
import qdm.model.Placement;
import qdm.model.TorchEngine;
import qdm.model.neox.GptNeoXConfig;

/**
 * {@code qdm bench compress}: the cost of compressing a Pythia-70M-shaped model (random weights):
 * wall time of {@link Compression#apply} per method and the parameters it rewrites per second.
 */
@Command(
    name = "compress",
    mixinStandardHelpOptions = true,
    description = "Time compression methods on a Pythia-70M-shaped model with random weights.")
public final class CompressBenchCommand implements Callable<Integer> {

  @Option(
      names = "--compress",
      paramLabel = "SPEC",
      split = ",",
      defaultValue = "rtn:4,rtn:4:g128,rtn:4:asym,prune:0.3,prune:0.3:global",
      description = "Compressions to time (default: ${DEFAULT-VALUE}).")
  List<String> specs;

  @Option(
      names = "--repeat",
      defaultValue = "5",
      paramLabel = "N",
      description = "Timed runs per compression, after one warm-up (default: ${DEFAULT-VALUE}).")
  int repeat;

  @Option(
      names = "--device",
      defaultValue = "cpu",
      paramLabel = "DEVICE",
      description = "cpu, gpu or gpu:N (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(
      names = "--dtype",
      defaultValue = "float32",
      paramLabel = "DTYPE",
      description = "Weight type: float32, or float16 on a GPU (default: ${DEFAULT-VALUE}).")
  String dtype;

  @Override
  public Integer call() {
    Placement placement = Placement.parse(device, dtype);
    List<Compression> compressions = specs.stream().map(ConditionSyntax::compression).toList();
    GptNeoXConfig config = qdm.bench.ForwardBenchmark.pythia70m();
    try (NDManager root = TorchEngine.newManager(placement.device());
        Model model = Model.random(config, root, placement.device(), placement.dtype(), 0.02f, 0)) {
      System.out.printf(
          Locale.ROOT,
          "compress: Pythia-70M shape (%d layers, d %d, ff %d, "
              + "vocab %d), random weights, %s, %d threads%n",
          config.numLayers(),
          config.hiddenSize(),
          config.intermediateSize(),
          config.vocabSize(),
          placement,
          java.lang.Runtime.getRuntime().availableProcessors());
      for (Compression c : compressions) {
        double[] seconds = new double[repeat];
        String summary = "";
        long parameters = 0;
        for (int i = -1; i < repeat; i++) {
          long t0 = System.nanoTime();
          try (Compressed out = c.apply(model.weights())) {
            // The report reads figures back to the host, so the work is done (GPU included).
            if (i >= 0) {
              seconds[i] = (System.nanoTime() - t0) / 1e9;
            }
            summary = out.report().summary();
            parameters = out.report().parameters();
          }
        }
        Arrays.sort(seconds);
        double median = seconds[repeat / 2];
        System.out.printf(
            Locale.ROOT,
            "  %-22s best %7.3f s  median %7.3f s  %8.1f M params/s" + "  (%s)%n",
            ConditionSyntax.name(c, Convention.HF),
            seconds[0],
            median,
            parameters / median / 1e6,
            summary);
      }
    }
    return 0;
  }
}
