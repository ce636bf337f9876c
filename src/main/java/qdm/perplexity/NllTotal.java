package qdm.perplexity;

/**
 * A running sum of negative log-likelihoods: token-weighted perplexity is {@code exp(sum / count)}.
 * The paper's batch-mean form averages per-batch means instead and is kept alongside.
 */
public final class NllTotal {
  private double sum;
  private long count;
  private double batchMeanSum;
  private long batches;

  /** Adds one batch of per-token NLLs. */
  public void addBatch(double batchSum, long batchCount) {
    if (batchCount == 0) {
      return;
    }
    sum += batchSum;
    count += batchCount;
    batchMeanSum += batchSum / batchCount;
    batches++;
  }

  public double sum() {
    return sum;
  }

  public long count() {
    return count;
  }

  /** {@code exp(sum nll / scored tokens)}. */
  public double perplexity() {
    return Math.exp(sum / count);
  }

  /** The paper's form: {@code exp(mean over batches of the batch's mean NLL)}. */
  public double batchMeanPerplexity() {
    return Math.exp(batchMeanSum / batches);
  }
}
