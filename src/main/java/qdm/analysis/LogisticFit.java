package qdm.analysis;

/**
 * L2-penalized logistic regression with an unpenalized intercept, solved to machine precision by
 * damped Newton steps: minimizes {@code C * sum_i logloss(b + w . x_i) + |w|^2 / 2}, scikit-learn's
 * {@code LogisticRegression(C)} objective.
 *
 * <p>Why not MLlib's {@code LogisticRegression}: the predictor fits one row per active feature
 * (thousands) with at most five unknowns, and MLlib's L-BFGS runs one Spark job per iteration: 117
 * jobs and about 20 s of the demo's analysis, for an optimum it reaches only to its 1e-6 tolerance.
 * Here the objective is strictly convex (the ridge term makes the Hessian positive definite), so
 * Newton's method converges quadratically in a handful of iterations on the driver; summing the
 * rows in their given order makes the result bit-identical between runs.
 */
final class LogisticFit {
  private static final int MAX_ITER = 100;

  /** Converged when no parameter moves more than this (relative to its size, or absolutely). */
  private static final double STEP_TOL = 1e-13;

  private LogisticFit() {}

  /**
   * @param x rows of predictors (already standardized by the caller)
   * @param y labels, 0 or 1
   * @param c the inverse regularization strength
   * @return {intercept, w_1, ..., w_d}
   */
  static double[] fit(double[][] x, double[] y, double c) {
    int d = x.length == 0 ? 0 : x[0].length;
    double[] theta = new double[d + 1];
    double loss = objective(x, y, c, theta);
    for (int iter = 0; iter < MAX_ITER; iter++) {
      double[] gradient = new double[d + 1];
      double[][] hessian = new double[d + 1][d + 1];
      for (int j = 1; j <= d; j++) {
        gradient[j] = theta[j];
        hessian[j][j] = 1;
      }
      for (int i = 0; i < x.length; i++) {
        double p = sigmoid(margin(theta, x[i]));
        double weight = c * p * (1 - p);
        double residual = c * (p - y[i]);
        for (int j = 0; j <= d; j++) {
          double xj = j == 0 ? 1 : x[i][j - 1];
          gradient[j] += residual * xj;
          for (int k = 0; k <= j; k++) {
            hessian[j][k] += weight * xj * (k == 0 ? 1 : x[i][k - 1]);
          }
        }
      }
      double[] step = choleskySolve(hessian, gradient);
      // halve the step until the objective does not rise (pure Newton can overshoot far from
      // the optimum when classes are nearly separable)
      double scale = 1;
      double[] next = new double[d + 1];
      double nextLoss = Double.POSITIVE_INFINITY;
      for (int halvings = 0; halvings < 60; halvings++, scale /= 2) {
        for (int j = 0; j <= d; j++) {
          next[j] = theta[j] - scale * step[j];
        }
        nextLoss = objective(x, y, c, next);
        if (nextLoss <= loss) {
          break;
        }
      }
      if (!(nextLoss <= loss)) {
        return theta; // no descent left: at the optimum to rounding
      }
      boolean converged = true;
      for (int j = 0; j <= d; j++) {
        converged &= Math.abs(next[j] - theta[j]) <= STEP_TOL * Math.max(1, Math.abs(theta[j]));
      }
      System.arraycopy(next, 0, theta, 0, d + 1);
      loss = nextLoss;
      if (converged) {
        break;
      }
    }
    return theta;
  }

  /** b + w . x. */
  static double margin(double[] theta, double[] x) {
    double m = theta[0];
    for (int j = 0; j < x.length; j++) {
      m += theta[j + 1] * x[j];
    }
    return m;
  }

  private static double sigmoid(double m) {
    return m >= 0 ? 1 / (1 + Math.exp(-m)) : Math.exp(m) / (1 + Math.exp(m));
  }

  private static double objective(double[][] x, double[] y, double c, double[] theta) {
    double penalty = 0;
    for (int j = 1; j < theta.length; j++) {
      penalty += theta[j] * theta[j];
    }
    double loss = 0;
    for (int i = 0; i < x.length; i++) {
      double m = margin(theta, x[i]);
      // log(1 + e^m) - y m, without overflow for large |m|
      loss += Math.max(m, 0) + Math.log1p(Math.exp(-Math.abs(m))) - y[i] * m;
    }
    return c * loss + penalty / 2;
  }

  /** Solves A s = b for symmetric positive definite A given by its lower triangle. */
  private static double[] choleskySolve(double[][] a, double[] b) {
    int n = b.length;
    double[][] l = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        double s = a[i][j];
        for (int k = 0; k < j; k++) {
          s -= l[i][k] * l[j][k];
        }
        l[i][j] = i == j ? Math.sqrt(Math.max(s, Double.MIN_NORMAL)) : s / l[j][j];
      }
    }
    double[] z = new double[n];
    for (int i = 0; i < n; i++) {
      double s = b[i];
      for (int k = 0; k < i; k++) {
        s -= l[i][k] * z[k];
      }
      z[i] = s / l[i][i];
    }
    double[] s = new double[n];
    for (int i = n - 1; i >= 0; i--) {
      double v = z[i];
      for (int k = i + 1; k < n; k++) {
        v -= l[k][i] * s[k];
      }
      s[i] = v / l[i][i];
    }
    return s;
  }
}
