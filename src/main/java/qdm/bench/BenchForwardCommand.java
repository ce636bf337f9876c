package qdm.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code qdm bench forward}: forward-pass throughput against this machine's matmul figure. */
@Command(
    name = "forward",
    mixinStandardHelpOptions = true,
    description = {
      "Forward-pass throughput against this machine's matmul throughput.",
      "Times a Pythia-70M-shaped GPT-NeoX with random weights (full pass with NLL, and",
      "the pass stopped after a block) and compares its GFLOP/s with float32 matmul",
      "GFLOP/s measured in the same run."
    })
public final class BenchForwardCommand implements Callable<Integer> {

  @Option(
      names = "--batch",
      defaultValue = "8",
      description = "Sequences per pass " + "(default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--seq-len",
      defaultValue = "512",
      description = "Tokens per sequence " + "(default: ${DEFAULT-VALUE}).")
  int seqLen;

  @Option(
      names = "--stop-layer",
      defaultValue = "4",
      description = "Block after which the " + "truncated pass stops (default: ${DEFAULT-VALUE}).")
  int stopLayer;

  @Option(
      names = "--warmup",
      defaultValue = "1",
      description = "Untimed passes of each kind " + "(default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--iterations",
      defaultValue = "3",
      description = "Timed passes of each kind " + "(default: ${DEFAULT-VALUE}).")
  int iterations;

  @Option(
      names = "--threads",
      defaultValue = "0",
      description =
          "libtorch intra-op threads; 0:"
              + " the engine's default, one per core (default: ${DEFAULT-VALUE}).")
  int threads;

  @Override
  public Integer call() {
    ForwardBenchmark.run(
        new ForwardBenchmark.Options(batch, seqLen, stopLayer, warmup, iterations, threads),
        System.out);
    return 0;
  }
}
