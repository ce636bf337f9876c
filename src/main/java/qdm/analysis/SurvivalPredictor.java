package qdm.analysis;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.stddev_pop;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.VectorAssembler;
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
 * <p>The fit is MLlib {@link LogisticRegression} made equivalent to scikit-learn's {@code
 * LogisticRegression(C=1)}: scikit-learn minimizes {@code C * sum(logloss) + |w|^2 / 2}; MLlib
 * minimizes {@code mean(logloss) + regParam * |w|^2 / 2}; dividing the first by {@code C * n} gives
 * the second with {@code regParam = 1 / (C * n_train)}. Neither penalizes the intercept;
 * elasticNetParam = 0 (pure L2); standardization = false because the inputs are already
 * standardized (MLlib would otherwise penalize coefficients in its own scale). Both objectives are
 * strictly convex, so both solvers reach the same optimum, each to its own tolerance (MLlib's
 * default 1e-6 on the relative loss change here; tighter ones make breeze's line search give up on
 * the nearly collinear predictor set, log_max_over_mean being log_max_act - log_mean_act wherever
 * the clipping does not bind).
 *
 * <p>Deterministic: the data are small (one row per active feature) and are fit as one local,
 * sorted partition, so every aggregation and solver step runs in the same order each time.
 */
public final class SurvivalPredictor {
  /** scikit-learn's inverse regularization strength, as in the paper. */
  public static final double C = 1.0;

  private static final int MAX_ITER = 1000;

  /** Points kept per ROC curve. */
  static final int ROC_POINTS = 200;

  private static final double TOL = 1e-6;

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
    Dataset<Row> data =
        local(withFolds(labeled(featureStats, featureSurvival, condition), k, s.seed()));
    Scaling scaling = Scaling.of(data, k);
    long n = scaling.n;
    long nSurvived = scaling.nSurvived;
    boolean canFit = nSurvived > 0 && nSurvived < n;
    boolean canValidate = nSurvived >= k && n - nSurvived >= k;

    List<List<String>> sets = new ArrayList<>();
    sets.add(Predictors.NAMES);
    for (String p : Predictors.NAMES) {
      sets.add(List.of(p));
    }
    // Held-out scores of every set and fold, ranked together in one job. A one-predictor
    // model needs no fit to be scored: its margin b + w (p - mean) / sd orders the held-out
    // features by p when w > 0 and by -p when w < 0, and the sign of the L2 optimum w is the
    // sign of the training fold's covariance of p with the label (the derivative of the
    // profiled objective at w = 0 is -C n cov). So its held-out AUC is that of sign * p.
    Dataset<Row> scored = null;
    for (int i = 0; canValidate && i < sets.size(); i++) {
      List<String> set = sets.get(i);
      for (int fold = 0; fold < k; fold++) {
        Column score =
            set.size() == 1
                ? scaling.direction(set.get(0), fold).multiply(col(set.get(0)))
                : Fit.on(data.filter(col("fold").notEqual(fold)), set, scaling, fold).margin();
        Dataset<Row> test =
            data.filter(col("fold").equalTo(fold))
                .select(lit(i).as("set"), col("fold"), col("label"), score.as("score"));
        scored = scored == null ? test : scored.unionAll(test);
      }
    }
    List<Fit> full = new ArrayList<>();
    for (List<String> set : sets) {
      full.add(canFit ? Fit.on(data, set, scaling, Scaling.ALL) : null);
    }
    Map<Integer, List<Double>> aucs = new HashMap<>();
    List<Row> roc = new ArrayList<>();
    if (scored != null) {
      // ROC of the held-out scores of all folds pooled (as scikit-learn's cross_val_predict)
      Map<Integer, List<Row>> bySet = new HashMap<>();
      for (Row r : scored.select("set", "label", "score").collectAsList()) {
        bySet.computeIfAbsent(r.getInt(0), x -> new ArrayList<>()).add(r);
      }
      for (int i = 0; i < sets.size(); i++) {
        List<Row> rs = bySet.getOrDefault(i, List.of());
        double[] score = rs.stream().mapToDouble(r -> r.getDouble(2)).toArray();
        boolean[] label = new boolean[rs.size()];
        for (int j = 0; j < label.length; j++) {
          label[j] = rs.get(j).getDouble(1) > 0.5;
        }
        List<double[]> points = RocCurve.points(score, label, ROC_POINTS);
        for (int j = 0; j < points.size(); j++) {
          roc.add(
              RowFactory.create(
                  i == 0 ? "all" : sets.get(i).get(0), j, points.get(j)[0], points.get(j)[1]));
        }
      }
      for (Row r : Auc.byGroup(scored, "set", "fold").orderBy("set", "fold").collectAsList()) {
        aucs.computeIfAbsent(r.getInt(0), x -> new ArrayList<>()).add(r.getDouble(2));
      }
    }

    List<Row> rows = new ArrayList<>();
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
      rows.add(RowFactory.create(row.toArray()));
    }
    return new Result(
        spark.createDataFrame(rows, AnalysisSchemas.PREDICTOR),
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

  /** The table as one local, feature-sorted partition (deterministic fits and sums). */
  private static Dataset<Row> local(Dataset<Row> table) {
    List<Row> rows = table.orderBy("feature").collectAsList();
    return table.sparkSession().createDataFrame(rows, table.schema()).coalesce(1);
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

  /**
   * The standardization of every predictor for every training set (all folds but one, and all
   * data), from one aggregation: mean and population standard deviation, a zero deviation becoming
   * 1 (scikit-learn's StandardScaler); also the positives' mean, for the sign of the covariance
   * with the label.
   */
  private record Scaling(Map<String, double[]> stats, long[] trainSizes, long n, long nSurvived) {
    /** The fold index that stands for "train on all data". */
    static final int ALL = -1;

    static Scaling of(Dataset<Row> data, int k) {
      List<Column> aggs = new ArrayList<>();
      for (int fold = 0; fold <= k; fold++) {
        Column train = fold == k ? lit(true) : col("fold").notEqual(fold);
        aggs.add(count(when(train, 1)));
        for (String p : Predictors.NAMES) {
          aggs.add(avg(when(train, col(p))));
          aggs.add(stddev_pop(when(train, col(p))));
          aggs.add(avg(when(train.and(col("label").equalTo(1.0)), col(p))));
        }
      }
      aggs.add(count(when(col("label").equalTo(1.0), 1)));
      Row r = data.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).first();
      Map<String, double[]> stats = new HashMap<>();
      long[] sizes = new long[k + 1];
      int i = 0;
      for (int fold = 0; fold <= k; fold++) {
        sizes[fold] = r.getLong(i++);
        for (String p : Predictors.NAMES) {
          double[] st = stats.computeIfAbsent(p, x -> new double[3 * (k + 1)]);
          for (int j = 0; j < 3; j++) {
            st[3 * fold + j] = r.isNullAt(i + j) ? 0 : r.getDouble(i + j);
          }
          i += 3;
        }
      }
      return new Scaling(stats, sizes, sizes[k], r.getLong(i));
    }

    private int index(int fold) {
      return fold == ALL ? trainSizes.length - 1 : fold;
    }

    double mean(String p, int fold) {
      return stats.get(p)[3 * index(fold)];
    }

    double scale(String p, int fold) {
      double sd = stats.get(p)[3 * index(fold) + 1];
      return sd == 0 ? 1.0 : sd;
    }

    /**
     * The sign of the training covariance of {@code p} with the label (the positives' mean minus
     * the mean): +1, -1, or 0 for a predictor constant on the training fold.
     */
    Column direction(String p, int fold) {
      double[] st = stats.get(p);
      int i = 3 * index(fold);
      double sign = st[i + 1] == 0 ? 0 : Math.signum(st[i + 2] - st[i]);
      return lit(sign);
    }

    long trainSize(int fold) {
      return trainSizes[index(fold)];
    }
  }

  /** A standardized L2 logistic regression fit: scaling, coefficients, intercept. */
  private record Fit(
      List<String> predictors,
      double[] means,
      double[] scales,
      double[] coefficients,
      double intercept) {

    static Fit on(Dataset<Row> train, List<String> predictors, Scaling scaling, int fold) {
      int d = predictors.size();
      double[] means = new double[d];
      double[] scales = new double[d];
      for (int j = 0; j < d; j++) {
        means[j] = scaling.mean(predictors.get(j), fold);
        scales[j] = scaling.scale(predictors.get(j), fold);
      }
      long n = scaling.trainSize(fold);

      List<Column> z = new ArrayList<>();
      String[] names = new String[d];
      for (int j = 0; j < d; j++) {
        names[j] = "z_" + predictors.get(j);
        z.add(col(predictors.get(j)).minus(means[j]).divide(scales[j]).as(names[j]));
      }
      z.add(col("label"));
      Dataset<Row> assembled =
          new VectorAssembler()
              .setInputCols(names)
              .setOutputCol("features")
              .transform(train.select(z.toArray(new Column[0])));
      LogisticRegressionModel model =
          new LogisticRegression()
              .setRegParam(1.0 / (C * n))
              .setElasticNetParam(0.0)
              .setStandardization(false)
              .setFitIntercept(true)
              .setMaxIter(MAX_ITER)
              .setTol(TOL)
              .fit(assembled);
      return new Fit(predictors, means, scales, model.coefficients().toArray(), model.intercept());
    }

    /** The decision function intercept + w . z on the raw predictor columns. */
    Column margin() {
      Column m = lit(intercept);
      for (int j = 0; j < predictors.size(); j++) {
        m =
            m.plus(
                col(predictors.get(j)).minus(means[j]).divide(scales[j]).multiply(coefficients[j]));
      }
      return m;
    }
  }
}
