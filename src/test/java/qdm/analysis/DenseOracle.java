package qdm.analysis;

import java.util.Arrays;

/**
 * Straightforward dense re-implementations of every analysis statistic, written from the
 * definitions in PAPER.md with the textbook formulas (two-pass Pearson, sorted medians, naive
 * ranks, pairwise Mann-Whitney, Newton's method for the logistic regression), as the oracle of the
 * Spark implementation.
 */
final class DenseOracle {
  private DenseOracle() {}

  static double[] column(float[][] a, int f) {
    double[] c = new double[a.length];
    for (int t = 0; t < a.length; t++) {
      c[t] = a[t][f];
    }
    return c;
  }

  static double firingRate(double[] x) {
    return Arrays.stream(x).filter(v -> v > 0).count() / (double) x.length;
  }

  static double mean(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v;
    }
    return s / x.length;
  }

  static double max(double[] x) {
    return Arrays.stream(x).max().orElseThrow();
  }

  static double meanWhenActive(double[] x) {
    double[] fired = Arrays.stream(x).filter(v -> v > 0).toArray();
    return fired.length == 0 ? 0 : mean(fired);
  }

  static boolean constant(double[] x) {
    return Arrays.stream(x).allMatch(v -> v == x[0]);
  }

  /** Two-pass Pearson; 0 when a side is constant (PAPER.md section 4). */
  static double featurePearson(double[] x, double[] y) {
    if (constant(x) || constant(y)) {
      return 0;
    }
    return Math.max(-1, Math.min(1, pearson(x, y)));
  }

  /** Two-pass Pearson of non-constant data. */
  static double pearson(double[] x, double[] y) {
    double mx = mean(x);
    double my = mean(y);
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < x.length; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / Math.sqrt(sxx * syy);
  }

  /** Pearson of the average ranks; null when a side is constant. */
  static Double spearman(double[] x, double[] y) {
    if (constant(x) || constant(y)) {
      return null;
    }
    return pearson(averageRanks(x), averageRanks(y));
  }

  /** 1-based ranks; ties get the mean of their ranks (counted naively). */
  static double[] averageRanks(double[] x) {
    double[] r = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      int below = 0;
      int equal = 0;
      for (double v : x) {
        if (v < x[i]) {
          below++;
        } else if (v == x[i]) {
          equal++;
        }
      }
      r[i] = below + (equal + 1) / 2.0;
    }
    return r;
  }

  /** Median, averaging the two middle values for an even count. */
  static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** numpy's default (linear) quantile. */
  static double quantile(double[] x, double q) {
    double[] s = x.clone();
    Arrays.sort(s);
    double pos = (s.length - 1) * q;
    int lo = (int) Math.floor(pos);
    int hi = (int) Math.ceil(pos);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  }

  /** P(score of a positive > score of a negative) + half the ties, over all pairs. */
  static double auc(double[] score, double[] label) {
    double wins = 0;
    long pairs = 0;
    for (int i = 0; i < score.length; i++) {
      for (int j = 0; j < score.length; j++) {
        if (label[i] == 1 && label[j] == 0) {
          pairs++;
          if (score[i] > score[j]) {
            wins += 1;
          } else if (score[i] == score[j]) {
            wins += 0.5;
          }
        }
      }
    }
    return wins / pairs;
  }

  /**
   * scikit-learn's LogisticRegression(C) optimum by Newton's method: minimizes |w|^2 / 2 + C
   * sum(logloss(b + w.x)). Returns {b, w...}.
   */
  static double[] logistic(double[][] x, double[] y, double c) {
    int d = x[0].length;
    double[] theta = new double[d + 1];
    for (int iter = 0; iter < 200; iter++) {
      double[] g = new double[d + 1];
      double[][] h = new double[d + 1][d + 1];
      for (int j = 1; j <= d; j++) {
        g[j] = theta[j];
        h[j][j] = 1;
      }
      for (int i = 0; i < x.length; i++) {
        double[] z = new double[d + 1];
        z[0] = 1;
        System.arraycopy(x[i], 0, z, 1, d);
        double m = 0;
        for (int j = 0; j <= d; j++) {
          m += theta[j] * z[j];
        }
        double p = 1 / (1 + Math.exp(-m));
        for (int j = 0; j <= d; j++) {
          g[j] += c * (p - y[i]) * z[j];
          for (int k = 0; k <= d; k++) {
            h[j][k] += c * p * (1 - p) * z[j] * z[k];
          }
        }
      }
      double[] step = solve(h, g);
      double norm = 0;
      for (int j = 0; j <= d; j++) {
        theta[j] -= step[j];
        norm = Math.max(norm, Math.abs(step[j]));
      }
      if (norm < 1e-13) {
        break;
      }
    }
    return theta;
  }

  /** Gaussian elimination with partial pivoting. */
  static double[] solve(double[][] a0, double[] b0) {
    int n = b0.length;
    double[][] a = new double[n][];
    for (int i = 0; i < n; i++) {
      a[i] = a0[i].clone();
    }
    double[] b = b0.clone();
    for (int col = 0; col < n; col++) {
      int piv = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
          piv = r;
        }
      }
      double[] t = a[col];
      a[col] = a[piv];
      a[piv] = t;
      double tb = b[col];
      b[col] = b[piv];
      b[piv] = tb;
      for (int r = col + 1; r < n; r++) {
        double f = a[r][col] / a[col][col];
        for (int k = col; k < n; k++) {
          a[r][k] -= f * a[col][k];
        }
        b[r] -= f * b[col];
      }
    }
    double[] x = new double[n];
    for (int r = n - 1; r >= 0; r--) {
      double s = b[r];
      for (int k = r + 1; k < n; k++) {
        s -= a[r][k] * x[k];
      }
      x[r] = s / a[r][r];
    }
    return x;
  }

  /** Population mean and standard deviation of each column (a zero deviation becomes 1). */
  static double[][] standardization(double[][] x) {
    int d = x[0].length;
    double[] m = new double[d];
    double[] s = new double[d];
    for (int j = 0; j < d; j++) {
      double[] c = new double[x.length];
      for (int i = 0; i < x.length; i++) {
        c[i] = x[i][j];
      }
      m[j] = mean(c);
      double v = 0;
      for (double e : c) {
        v += (e - m[j]) * (e - m[j]);
      }
      s[j] = v == 0 ? 1 : Math.sqrt(v / c.length);
    }
    return new double[][] {m, s};
  }

  static double[][] standardize(double[][] x, double[][] ms) {
    double[][] z = new double[x.length][x[0].length];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x[0].length; j++) {
        z[i][j] = (x[i][j] - ms[0][j]) / ms[1][j];
      }
    }
    return z;
  }
}
