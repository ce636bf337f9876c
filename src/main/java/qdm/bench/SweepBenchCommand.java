package qdm.bench;

import picocli.CommandLine.Command;

/**
 * {@code bench sweep}: the whole audit's cost on the Pythia-70M shape, as {@code bench encode}
 * measures the encode stage, plus the analyze stage alone and the plain forward + SAE rate on the
 * same machine in the same run, so the overhead of every measurement the pass takes is one figure.
 */
@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description = {
      "Encode + analyze of N tokens x K conditions on a Pythia-70M-shaped model with a random",
      "SAE: tokens x conditions per second next to the plain forward + SAE rate measured in the",
      "same run, and the analyze stage's time alone. Run from the repository root."
    })
public final class SweepBenchCommand extends EncodeBenchCommand {
  @Override
  protected boolean sweep() {
    return true;
  }
}
