package qdm.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import qdm.train.SaeOptions;

/**
 * The SAE hyper-parameters shared by {@code qdm train-sae} and {@code qdm demo train-sae}; the
 * defaults are the ones the demo SAE was trained with.
 */
final class SaeTrainingOptions {

  @Option(
      names = "--architecture",
      defaultValue = "topk",
      description = "standard (ReLU, " + "L1 penalty) or topk (default: ${DEFAULT-VALUE}).")
  String architecture;

  @Option(
      names = "--d-sae",
      defaultValue = "0",
      description = "Features; 0 for 16 x d_model " + "(default: ${DEFAULT-VALUE}).")
  int dSae;

  @Option(
      names = "--l1",
      defaultValue = "3",
      description =
          "L1 coefficient of the standard "
              + "SAE, on inputs scaled to mean squared norm d_in (default: ${DEFAULT-VALUE}).")
  double l1;

  @Option(
      names = "--k",
      defaultValue = "32",
      description = "Features kept per token by topk " + "(default: ${DEFAULT-VALUE}).")
  int k;

  @Option(
      names = "--steps",
      defaultValue = "800",
      description = "Optimizer steps (default: " + "${DEFAULT-VALUE}).")
  int steps;

  @Option(
      names = "--batch",
      defaultValue = "4096",
      description = "Activation rows per step " + "(default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--lr",
      defaultValue = "2e-3",
      description = "Peak Adam learning rate " + "(default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(
      names = "--warmup",
      defaultValue = "100",
      description = "Learning-rate warm-up steps " + "(default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--l1-warmup",
      defaultValue = "200",
      description =
          "Steps over which the L1 "
              + "coefficient rises to its value (default: ${DEFAULT-VALUE}).")
  int l1Warmup;

  @Option(
      names = "--resample-every",
      defaultValue = "250",
      description =
          "Steps between "
              + "re-initialisations of dead features in the first half, 0 for never (default: "
              + "${DEFAULT-VALUE}).")
  int resampleEvery;

  @Option(
      names = "--context",
      defaultValue = "256",
      description = "Tokens per window the " + "activations come from (default: ${DEFAULT-VALUE}).")
  int context;

  @Option(
      names = "--max-tokens",
      defaultValue = "1000000",
      description =
          "Activation rows "
              + "gathered for training; memory is rows x d_model x 4 bytes (default: ${DEFAULT-VALUE}).")
  long maxTokens;

  @Option(
      names = "--eval-tokens",
      defaultValue = "100000",
      description =
          "Held-out activation " + "rows for the reported metrics (default: ${DEFAULT-VALUE}).")
  long evalTokens;

  @Option(
      names = "--forward-batch",
      defaultValue = "16",
      description =
          "Windows per forward " + "pass while gathering activations (default: ${DEFAULT-VALUE}).")
  int forwardBatch;

  /** Two threads (the demo SAE: 20 minutes instead of 40); {@code demo train-lm} keeps one. */
  @Mixin RunSeedOptions run = new RunSeedOptions(2);

  @Option(
      names = "--log-every",
      defaultValue = "50",
      description = "Steps between progress " + "lines (default: ${DEFAULT-VALUE}).")
  int logEvery;

  /** The trainer's options for a model of width {@code dModel}. */
  SaeOptions resolve(int dModel) {
    return new SaeOptions(
        architecture,
        dSae > 0 ? dSae : 16 * dModel,
        l1,
        k,
        steps,
        batch,
        lr,
        warmup,
        l1Warmup,
        resampleEvery,
        run.seed,
        logEvery);
  }
}
