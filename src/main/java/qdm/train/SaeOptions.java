package qdm.train;

import java.util.Locale;

/**
 * How {@link SaeTrainer} trains a sparse autoencoder.
 *
 * @param architecture {@code standard} (ReLU with an L1 penalty) or {@code topk} (the {@code k}
 *     largest pre-activations kept, then ReLU)
 * @param dSae number of features
 * @param l1 L1 coefficient of the standard architecture, on activations normalised to a mean
 *     squared norm of {@code d_in}; reached linearly over the first {@code l1Warmup} steps
 * @param k features kept per token by the topk architecture
 * @param steps optimizer steps
 * @param batch activation vectors per step
 * @param lr Adam learning rate: warm-up over {@code warmup} steps, cosine decay to 0
 * @param resampleEvery steps between re-initialisations of dead features (0: never); the last half
 *     of training never resamples
 * @param seed initialisation and batch order
 * @param logEvery steps between progress lines
 */
public record SaeOptions(
    String architecture,
    int dSae,
    double l1,
    int k,
    int steps,
    int batch,
    double lr,
    int warmup,
    int l1Warmup,
    int resampleEvery,
    long seed,
    int logEvery) {

  public static final String STANDARD = "standard";
  public static final String TOPK = "topk";

  public SaeOptions {
    architecture = architecture.toLowerCase(Locale.ROOT);
    LmOptions.require(
        architecture.equals(STANDARD) || architecture.equals(TOPK),
        "--architecture must be standard or topk, got " + architecture);
    LmOptions.require(dSae >= 1, "--d-sae must be at least 1, got " + dSae);
    LmOptions.require(l1 >= 0, "--l1 must be >= 0, got " + l1);
    LmOptions.require(
        !architecture.equals(TOPK) || (k >= 1 && k <= dSae),
        "--k must be in [1, d_sae " + dSae + "], got " + k);
    LmOptions.require(steps >= 1, "--steps must be at least 1, got " + steps);
    LmOptions.require(batch >= 1, "--batch must be at least 1, got " + batch);
    LmOptions.require(lr > 0, "--lr must be positive, got " + lr);
    LmOptions.require(warmup >= 0 && l1Warmup >= 0, "warm-up steps must be >= 0");
    LmOptions.require(resampleEvery >= 0, "--resample-every must be >= 0, got " + resampleEvery);
    LmOptions.require(logEvery >= 1, "--log-every must be at least 1, got " + logEvery);
  }

  public boolean topk() {
    return architecture.equals(TOPK);
  }
}
