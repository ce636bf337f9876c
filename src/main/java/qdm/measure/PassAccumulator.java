package qdm.measure;

import org.apache.spark.util.AccumulatorV2;

/**
 * Spark's merge of the tasks' {@link PassSums}. Updated only inside the tasks of the job that
 * writes the pass's output, so Spark applies each task's sums exactly once, a retried or
 * speculative attempt's never twice.
 */
public final class PassAccumulator extends AccumulatorV2<PassSums, PassSums> {
  private static final long serialVersionUID = 1L;
  private PassSums sums = new PassSums();

  @Override
  public boolean isZero() {
    return sums.isEmpty();
  }

  @Override
  public AccumulatorV2<PassSums, PassSums> copy() {
    PassAccumulator c = new PassAccumulator();
    c.sums.merge(copyOf(sums));
    return c;
  }

  @Override
  public void reset() {
    sums = new PassSums();
  }

  @Override
  public void add(PassSums v) {
    sums.merge(v);
  }

  @Override
  public void merge(AccumulatorV2<PassSums, PassSums> other) {
    sums.merge(other.value());
  }

  @Override
  public PassSums value() {
    return sums;
  }

  /** A deep copy (merge adopts the other side's objects, so copies must not share them). */
  private static PassSums copyOf(PassSums s) {
    return org.apache.commons.lang3.SerializationUtils.clone(s);
  }
}
