package qdm.analysis;

/**
 * ROC-AUC by the Mann-Whitney statistic: (sum of the positives' average ranks - n1 (n1 + 1) / 2) /
 * (n1 n0), which equals the area under the ROC curve with tied scores counted one half
 * (scikit-learn's {@code roc_auc_score}). Rank sums are sums of half-integers, exact in double, so
 * the result does not depend on row order.
 */
final class Auc {
  private Auc() {}

  /** The AUC of {@code score} for {@code positive}; NaN when a class is absent. */
  static double of(double[] score, boolean[] positive) {
    Integer[] order = new Integer[score.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(score[a], score[b]));
    double positiveRanks = 0;
    long n1 = 0;
    for (int i = 0; i < order.length; ) {
      int j = i;
      while (j + 1 < order.length && score[order[j + 1]] == score[order[i]]) {
        j++;
      }
      double rank = (i + 1 + j + 1) / 2.0; // the tied block's average 1-based rank
      for (int t = i; t <= j; t++) {
        if (positive[order[t]]) {
          positiveRanks += rank;
          n1++;
        }
      }
      i = j + 1;
    }
    long n0 = score.length - n1;
    if (n1 == 0 || n0 == 0) {
      return Double.NaN;
    }
    return (positiveRanks - n1 * (n1 + 1) / 2.0) / ((double) n1 * n0);
  }
}
