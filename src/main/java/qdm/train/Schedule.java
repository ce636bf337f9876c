package qdm.train;

import ai.djl.training.tracker.ParameterTracker;

/**
 * A learning rate (or any coefficient) over training steps: linear warm-up from 0 to {@code peak}
 * over {@code warmup} steps, then cosine decay to {@code peak * floor} at {@code total}. DJL's
 * optimizers call it with their 1-based update count.
 *
 * @param floor the final value as a fraction of the peak, in [0, 1]
 */
public record Schedule(double peak, int warmup, int total, double floor)
    implements ParameterTracker {

  public Schedule {
    if (!(peak > 0) || warmup < 0 || total < 1 || floor < 0 || floor > 1) {
      throw new IllegalArgumentException(
          "bad schedule: peak "
              + peak
              + ", warmup "
              + warmup
              + ", total "
              + total
              + ", floor "
              + floor);
    }
  }

  /** The value at 1-based step {@code step}. */
  public double at(int step) {
    if (step <= warmup) {
      return peak * step / Math.max(1, warmup);
    }
    double progress = Math.min(1.0, (double) (step - warmup) / Math.max(1, total - warmup));
    double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
    return peak * (floor + (1 - floor) * cosine);
  }

  @Override
  public float getNewValue(String parameterId, int numUpdate) {
    return (float) at(numUpdate);
  }
}
