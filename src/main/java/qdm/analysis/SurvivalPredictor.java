package qdm.analysis;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import qdm.tables.AnalysisSchemas;

/**
 * The {@code predictor} table: can FP statistics alone predict which features survive the predictor
 * condition (docs/method.md §10)? Target: survived (r > threshold) at that condition, active
 * features only; predictors: {@link Predictors}. Rows: all predictors together, then each predictor
 * alone.
 *
 * <p>Per predictor set: stratified shuffled k-fold cross-validation (see {@link #withFolds}); in
 * each fold the predictors are standardized with the training fold's mean and population standard
 * deviation (a zero deviation becomes 1, as in scikit-learn's StandardScaler), an L2 logistic
 * regression is fit on the training fold and the held-out fold is scored by its margin; ROC-AUC per
 * fold by the Mann-Whitney rank statistic (ties count one half), then the mean and the population
 * standard deviation (numpy {@code std}) over folds. Coefficients come from one more fit on all
 * active features, standardized over all of them. A one-predictor model ranks held-out features by
 * the predictor itself or its negation, so its folds are scored without a fit (same AUC; see the
 * comment in {@link #compute}). The authors' script fits its scaler on all features before
 * cross-validating; here each training fold is standardized on its own, so nothing of the held-out
 * fold leaks into the fit.
 *
 * <p>The fit is scikit-learn's {@code LogisticRegression(C=1)}: it minimizes {@code C *
 * sum(logloss) + |w|^2 / 2}, the intercept unpenalized, solved to machine precision by {@link
 * LogisticFit} on the driver (the data are one row per active feature and at most five unknowns;
 * MLlib's distributed L-BFGS spent a Spark job per iteration on it and stopped at a 1e-6
 * tolerance). Fold assignment, scaling and the held-out AUCs stay Spark SQL.
 *
 * <p>Deterministic: the data are small (one row per active feature) and are fit from one local,
 * feature-sorted copy, so every aggregation and solver step runs in the same order each time.
 */
public final class SurvivalPredictor {
  /** scikit-learn's inverse regularization strength, as in the paper. */
  public static final double C = 1.0;

  /** Points kept per ROC curve. */
  static final int ROC_POINTS = 200;

  private SurvivalPredictor() {}

  /**
   * @param featureStats the {@link FeatureStats} table
   * @param featureSurvival the {@link FeatureSurvival} table
   * @return the predictor table and the ROC curves of the pooled held-out scores (both empty when
   *     the settings name no predictor condition)
   */
  public static Result compute(
      Dataset<Row> featureStats, Dataset<Row> featureSurvival, AnalysisSettings s) {
    SparkSession spark = featureStats.sparkSession();
    if (s.predictorCondition().isEmpty()) {
      return new Result(
          spark.createDataFrame(List.of(), AnalysisSchemas.PREDICTOR),
          spark.createDataFrame(List.of(), AnalysisSchemas.PREDICTOR_ROC));
    }
    String condition = s.predictorCondition().get();
    int k = s.folds();
    // one row per active feature: small, so everything after the fold assignment runs on the
    // driver, from one feature-sorted copy
    Sample data =
        Sample.of(
            withFolds(labeled(featureStats, featureSurvival, condition), k, s.seed())
                .orderBy("feature")
                .collectAsList());
    Scaling scaling = Scaling.of(data, k);
    long n = data.size();
    long nSurvived = data.positives();
    boolean canFit = nSurvived > 0 && nSurvived < n;
    boolean canValidate = nSurvived >= k && n - nSurvived >= k;

    List<List<String>> sets = new ArrayList<>();
    sets.add(Predictors.NAMES);
    for (String p : Predictors.NAMES) {
      sets.add(List.of(p));
    }
    Map<Integer, List<Double>> aucs = new HashMap<>();
    List<Row> roc = new ArrayList<>();
    for (int i = 0; canValidate && i < sets.size(); i++) {
      List<String> set = sets.get(i);
      // Held-out scores of every fold. A one-predictor model needs no fit to be scored: its
      // margin b + w (p - mean) / sd orders the held-out features by p when w > 0 and by -p
      // when w < 0, and the sign of the L2 optimum w is the sign of the training fold's
      // covariance of p with the label (the derivative of the profiled objective at w = 0 is
      // -C n cov). So its held-out AUC is that of sign * p.
      List<Double> pooledScore = new ArrayList<>();
      List<Boolean> pooledLabel = new ArrayList<>();
      List<Double> foldAucs = new ArrayList<>();
      for (int fold = 0; fold < k; fold++) {
        Fit fit = set.size() == 1 ? null : Fit.on(data, set, scaling, fold);
        double direction = set.size() == 1 ? scaling.direction(set.get(0), fold) : 0;
        List<Double> score = new ArrayList<>();
        List<Boolean> label = new ArrayList<>();
        for (int row = 0; row < data.size(); row++) {
          if (data.fold(row) == fold) {
            score.add(
                fit != null
                    ? fit.margin(data, row)
                    : direction * data.value(Predictors.NAMES.indexOf(set.get(0)), row));
            label.add(data.positive(row));
          }
        }
        foldAucs.add(Auc.of(unbox(score), unboxLabels(label)));
        pooledScore.addAll(score);
        pooledLabel.addAll(label);
      }
      aucs.put(i, foldAucs);
      // ROC of the held-out scores of all folds pooled (as scikit-learn's cross_val_predict)
      List<double[]> points =
          RocCurve.points(unbox(pooledScore), unboxLabels(pooledLabel), ROC_POINTS);
      for (int j = 0; j < points.size(); j++) {
        roc.add(
            RowFactory.create(i == 0 ? "all" : set.get(0), j, points.get(j)[0], points.get(j)[1]));
      }
    }
    List<Fit> full = new ArrayList<>();
    for (List<String> set : sets) {
      full.add(canFit ? Fit.on(data, set, scaling, Scaling.ALL) : null);
    }

    List<Row> table = new ArrayList<>();
    for (int i = 0; i < sets.size(); i++) {
      List<String> set = sets.get(i);
      List<Double> folds = aucs.get(i);
      Fit all = full.get(i);
      List<Object> row =
          new ArrayList<>(List.of(i == 0 ? "all" : set.get(0), condition, n, nSurvived, k));
      row.add(folds == null ? null : mean(folds));
      row.add(folds == null ? null : populationStd(folds));
      row.add(folds);
      row.add(all == null ? null : all.intercept);
      for (String p : Predictors.NAMES) {
        int j = set.indexOf(p);
        row.add(all == null || j < 0 ? null : all.coefficients[j]);
      }
      table.add(RowFactory.create(row.toArray()));
    }
    return new Result(
        spark.createDataFrame(table, AnalysisSchemas.PREDICTOR),
        spark.createDataFrame(roc, AnalysisSchemas.PREDICTOR_ROC));
  }

  /** The {@code predictor} table and the {@code predictor_roc} curves. */
  public record Result(Dataset<Row> table, Dataset<Row> roc) {}

  /** feature, the predictors and label (1.0 = survived at {@code condition}), active only. */
  static Dataset<Row> labeled(
      Dataset<Row> featureStats, Dataset<Row> featureSurvival, String condition) {
    Dataset<Row> target =
        featureSurvival
            .filter(col("condition").equalTo(condition))
            .select(
                col("feature"),
                when(col("class").equalTo(AnalysisSchemas.SURVIVED), 1.0)
                    .otherwise(0.0)
                    .as("label"));
    return Predictors.ofActive(featureStats).join(target, "feature");
  }

  /**
   * Adds {@code fold} in [0, k): stratified and shuffled, deterministic from the seed. Within each
   * class the features are ordered by a seeded 64-bit hash of the feature id (ties by id) and dealt
   * round-robin, so every fold holds floor or ceil of 1/k of each class. The same procedure as
   * scikit-learn's {@code StratifiedKFold(shuffle=True)}, but not its permutation.
   */
  public static Dataset<Row> withFolds(Dataset<Row> labeled, int k, long seed) {
    Column order = xxhash64(lit(seed), col("feature"));
    Column position = row_number().over(Window.partitionBy("label").orderBy(order, col("feature")));
    return labeled.withColumn("fold", position.minus(1).mod(k).cast("int"));
  }

  static double mean(List<Double> xs) {
    double s = 0;
    for (double x : xs) {
      s += x;
    }
    return s / xs.size();
  }

  /** numpy {@code std} (ddof = 0). */
  static double populationStd(List<Double> xs) {
    double m = mean(xs);
    double s = 0;
    for (double x : xs) {
      s += (x - m) * (x - m);
    }
    return Math.sqrt(s / xs.size());
  }

  private static double[] unbox(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static boolean[] unboxLabels(List<Boolean> xs) {
    boolean[] out = new boolean[xs.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = xs.get(i);
    }
    return out;
  }

  /** The labeled, folded active features on the driver: predictors by column, label, fold. */
  private record Sample(double[][] values, boolean[] label, int[] fold) {
    static Sample of(List<Row> rows) {
      double[][] values = new double[Predictors.NAMES.size()][rows.size()];
      boolean[] label = new boolean[rows.size()];
      int[] fold = new int[rows.size()];
      for (int i = 0; i < rows.size(); i++) {
        Row r = rows.get(i);
        for (int j = 0; j < values.length; j++) {
          values[j][i] = r.getDouble(r.fieldIndex(Predictors.NAMES.get(j)));
        }
        label[i] = r.getDouble(r.fieldIndex("label")) > 0.5;
        fold[i] = r.getInt(r.fieldIndex("fold"));
      }
      return new Sample(values, label, fold);
    }

    int size() {
      return label.length;
    }

    long positives() {
      long n = 0;
      for (boolean l : label) {
        n += l ? 1 : 0;
      }
      return n;
    }

    double value(int predictor, int row) {
      return values[predictor][row];
    }

    boolean positive(int row) {
      return label[row];
    }

    int fold(int row) {
      return fold[row];
    }

    /** Whether {@code row} is in the training set of {@code fold} ({@link Scaling#ALL}: all). */
    boolean trains(int row, int fold) {
      return fold == Scaling.ALL || this.fold[row] != fold;
    }
  }

  /**
   * The standardization of every predictor for every training set (all folds but one, and all
   * data): mean and population standard deviation (two passes), a zero deviation becoming 1
   * (scikit-learn's StandardScaler); also the positives' mean, for the sign of the covariance with
   * the label.
   */
  private record Scaling(double[][] mean, double[][] sd, double[][] positiveMean, int folds) {
    /** The fold index that stands for "train on all data". */
    static final int ALL = -1;

    static Scaling of(Sample data, int k) {
      int d = Predictors.NAMES.size();
      double[][] mean = new double[k + 1][d];
      double[][] sd = new double[k + 1][d];
      double[][] positiveMean = new double[k + 1][d];
      for (int fold = 0; fold <= k; fold++) {
        int train = fold == k ? ALL : fold;
        for (int j = 0; j < d; j++) {
          double sum = 0;
          double positiveSum = 0;
          long count = 0;
          long positives = 0;
          for (int row = 0; row < data.size(); row++) {
            if (data.trains(row, train)) {
              sum += data.value(j, row);
              count++;
              if (data.positive(row)) {
                positiveSum += data.value(j, row);
                positives++;
              }
            }
          }
          double m = count == 0 ? 0 : sum / count;
          double squares = 0;
          for (int row = 0; row < data.size(); row++) {
            if (data.trains(row, train)) {
              double dev = data.value(j, row) - m;
              squares += dev * dev;
            }
          }
          mean[fold][j] = m;
          sd[fold][j] = count == 0 ? 0 : Math.sqrt(squares / count);
          positiveMean[fold][j] = positives == 0 ? 0 : positiveSum / positives;
        }
      }
      return new Scaling(mean, sd, positiveMean, k);
    }

    private int index(int fold) {
      return fold == ALL ? folds : fold;
    }

    double mean(String p, int fold) {
      return mean[index(fold)][Predictors.NAMES.indexOf(p)];
    }

    double scale(String p, int fold) {
      double s = sd[index(fold)][Predictors.NAMES.indexOf(p)];
      return s == 0 ? 1.0 : s;
    }

    /**
     * The sign of the training covariance of {@code p} with the label (the positives' mean minus
     * the mean): +1, -1, or 0 for a predictor constant on the training fold.
     */
    double direction(String p, int fold) {
      int j = Predictors.NAMES.indexOf(p);
      int i = index(fold);
      return sd[i][j] == 0 ? 0 : Math.signum(positiveMean[i][j] - mean[i][j]);
    }
  }

  /** A standardized L2 logistic regression fit: scaling, coefficients, intercept. */
  private record Fit(
      int[] predictors, double[] means, double[] scales, double[] coefficients, double intercept) {

    /**
     * Fits on the training rows of {@code fold} (all rows for {@link Scaling#ALL}), standardized
     * with that training set's scaling.
     */
    static Fit on(Sample data, List<String> names, Scaling scaling, int fold) {
      int d = names.size();
      int[] predictors = new int[d];
      double[] means = new double[d];
      double[] scales = new double[d];
      for (int j = 0; j < d; j++) {
        predictors[j] = Predictors.NAMES.indexOf(names.get(j));
        means[j] = scaling.mean(names.get(j), fold);
        scales[j] = scaling.scale(names.get(j), fold);
      }
      List<double[]> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      for (int row = 0; row < data.size(); row++) {
        if (data.trains(row, fold)) {
          double[] z = new double[d];
          for (int j = 0; j < d; j++) {
            z[j] = (data.value(predictors[j], row) - means[j]) / scales[j];
          }
          x.add(z);
          y.add(data.positive(row) ? 1.0 : 0.0);
        }
      }
      double[] theta = LogisticFit.fit(x.toArray(new double[0][]), unbox(y), C);
      return new Fit(
          predictors, means, scales, java.util.Arrays.copyOfRange(theta, 1, d + 1), theta[0]);
    }

    /** The decision function intercept + w . z of one row. */
    double margin(Sample data, int row) {
      double m = intercept;
      for (int j = 0; j < predictors.length; j++) {
        m += (data.value(predictors[j], row) - means[j]) / scales[j] * coefficients[j];
      }
      return m;
    }
  }
}
