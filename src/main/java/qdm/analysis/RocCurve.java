package qdm.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A ROC curve from scores and binary labels: one point per distinct threshold (ties move
 * diagonally, so the trapezoid area under the points is the Mann-Whitney AUC with ties counted one
 * half), thinned to at most a given number of points for plotting.
 */
public final class RocCurve {
  private RocCurve() {}

  /** Points {@code [fpr, tpr]} from (0, 0) to (1, 1); empty if a class is missing. */
  public static List<double[]> points(double[] scores, boolean[] labels, int maxPoints) {
    int n = scores.length;
    long positives = 0;
    for (boolean l : labels) {
      positives += l ? 1 : 0;
    }
    long negatives = n - positives;
    if (positives == 0 || negatives == 0) {
      return List.of();
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> scores[i]).reversed());
    List<double[]> all = new ArrayList<>();
    all.add(new double[] {0, 0});
    long tp = 0;
    long fp = 0;
    for (int i = 0; i < n; ) {
      double threshold = scores[order[i]];
      while (i < n && scores[order[i]] == threshold) {
        if (labels[order[i]]) {
          tp++;
        } else {
          fp++;
        }
        i++;
      }
      all.add(new double[] {(double) fp / negatives, (double) tp / positives});
    }
    if (all.size() <= maxPoints) {
      return all;
    }
    List<double[]> thin = new ArrayList<>();
    double step = (all.size() - 1) / (double) (maxPoints - 1);
    for (int k = 0; k < maxPoints; k++) {
      thin.add(all.get((int) Math.round(k * step)));
    }
    return thin;
  }

  /** Trapezoid area under the points. */
  public static double area(List<double[]> points) {
    double a = 0;
    for (int i = 1; i < points.size(); i++) {
      a +=
          (points.get(i)[0] - points.get(i - 1)[0]) * (points.get(i)[1] + points.get(i - 1)[1]) / 2;
    }
    return a;
  }
}
