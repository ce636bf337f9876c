package qdm.cli;

import picocli.CommandLine.Option;

/**
 * What makes a training run repeatable, shared by the training commands: the seed, and libtorch's
 * intra-op thread count (float sums split over another number of threads round differently). Each
 * command picks its thread default: the count, not the machine's cores, fixes the result.
 */
final class RunSeedOptions {

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed (default: " + "${DEFAULT-VALUE}).")
  long seed;

  /** No {@code defaultValue}: picocli takes the field's initial value, set per command. */
  @Option(
      names = "--threads",
      description =
          "libtorch intra-op threads; "
              + "results are reproducible for a fixed count (default: ${DEFAULT-VALUE}).")
  int threads;

  RunSeedOptions() {
    this(1);
  }

  RunSeedOptions(int threads) {
    this.threads = threads;
  }
}
