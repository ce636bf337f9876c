package qdm.cli;

import picocli.CommandLine.Option;

/**
 * What makes a training run repeatable, shared by the training commands: the seed, and libtorch's
 * intra-op thread count (float sums split over another number of threads round differently).
 */
final class RunSeedOptions {

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed (default: " + "${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--threads",
      defaultValue = "1",
      description =
          "libtorch intra-op threads; "
              + "results are reproducible for a fixed count (default: ${DEFAULT-VALUE}).")
  int threads;
}
