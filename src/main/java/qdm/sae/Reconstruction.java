package qdm.sae;

/**
 * How well an SAE reconstructs one batch: the sparsity (L0) and the fraction of variance
 * unexplained (FVU) of the decoded codes, with the sums they come from.
 *
 * <p>FVU = sum over tokens of ||x - x_hat||^2 divided by sum over tokens of ||x - mean(x)||^2,
 * where mean(x) is the batch mean of each input dimension (the definition sparsify and SAELens'
 * "explained variance" use); x is the SAE input as captured (before {@code b_dec} is subtracted).
 *
 * @param tokens tokens in the batch
 * @param nonZeros active (token, feature) pairs
 * @param squaredError sum of ||x - x_hat||^2
 * @param totalVariance sum of ||x - mean(x)||^2
 */
public record Reconstruction(
    long tokens, long nonZeros, double squaredError, double totalVariance) {

  public Reconstruction {
    if (tokens < 0 || nonZeros < 0 || squaredError < 0 || totalVariance < 0) {
      throw new IllegalArgumentException(
          "negative figure in "
              + tokens
              + ", "
              + nonZeros
              + ", "
              + squaredError
              + ", "
              + totalVariance);
    }
  }

  /** Mean number of active features per token. */
  public double l0() {
    return tokens == 0 ? 0 : (double) nonZeros / tokens;
  }

  /** Fraction of variance unexplained; NaN when the batch has no variance (one token). */
  public double fvu() {
    return totalVariance == 0 ? Double.NaN : squaredError / totalVariance;
  }
}
