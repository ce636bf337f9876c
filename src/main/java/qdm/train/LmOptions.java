package qdm.train;

/**
 * How {@link LmTrainer} trains: random windows of {@code context + 1} tokens from the training
 * stream, {@code batch} per step, AdamW with the {@link Schedule} learning rate, weight decay on
 * matrices only, and the gradient's global norm clipped to {@code clipNorm}.
 *
 * @param evalEvery steps between held-out evaluations (0: only at the end)
 * @param logEvery steps between progress lines
 */
public record LmOptions(
    int steps,
    int batch,
    int context,
    double lr,
    int warmup,
    double lrFloor,
    double weightDecay,
    double clipNorm,
    long seed,
    int logEvery,
    int evalEvery) {

  public LmOptions {
    require(steps >= 1, "--steps must be at least 1, got " + steps);
    require(batch >= 1, "--batch must be at least 1, got " + batch);
    require(context >= 2, "--context must be at least 2, got " + context);
    require(lr > 0, "--lr must be positive, got " + lr);
    require(warmup >= 0, "--warmup must be >= 0, got " + warmup);
    require(lrFloor >= 0 && lrFloor <= 1, "--lr-floor must be in [0, 1], got " + lrFloor);
    require(weightDecay >= 0, "--weight-decay must be >= 0, got " + weightDecay);
    require(logEvery >= 1, "--log-every must be at least 1, got " + logEvery);
    require(evalEvery >= 0, "--eval-every must be >= 0, got " + evalEvery);
  }

  static void require(boolean ok, String message) {
    if (!ok) {
      throw new qdm.QdmException(message);
    }
  }

  /** The learning-rate schedule these options give. */
  public Schedule schedule() {
    return new Schedule(lr, warmup, steps, lrFloor);
  }
}
