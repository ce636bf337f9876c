package qdm.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qdm.analysis.DenseOracle.column;
import static qdm.analysis.SyntheticAudit.FEATURES;
import static qdm.analysis.SyntheticAudit.TOKENS;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import qdm.QdmException;
import qdm.tables.AnalysisSchemas;
import qdm.tables.Schemas;
import qdm.testing.LocalSpark;

/**
 * Every analysis table against {@link DenseOracle} computed on the dense tokens x features arrays
 * of {@link SyntheticAudit}.
 */
class AnalysisTest {
  private static final double EPS = 1e-9;

  private static SparkSession spark;
  private static SyntheticAudit audit;
  private static AnalysisSettings settings;
  private static AnalysisTables tables;

  /** Every table, collected once (Spark jobs are slow on a loaded machine). */
  private static Map<String, List<Row>> rows;

  /** Oracle: FP statistics per feature, and r per condition and feature. */
  private static boolean[] active;

  private static Map<String, double[]> r;

  @BeforeAll
  static void run() {
    spark = LocalSpark.get();
    audit = new SyntheticAudit(7);
    settings = SyntheticAudit.settings();
    tables = Analysis.run(spark, audit.codes(spark), audit.tokenNll(spark), TOKENS, settings);
    rows = collect(tables);

    float[][] fp = audit.dense.get("fp");
    active = new boolean[FEATURES];
    for (int f = 0; f < FEATURES; f++) {
      active[f] = DenseOracle.firingRate(column(fp, f)) > settings.activeFiringRate();
    }
    r = new HashMap<>();
    for (String c : SyntheticAudit.CONDITIONS) {
      double[] rs = new double[FEATURES];
      for (int f = 0; f < FEATURES; f++) {
        rs[f] = DenseOracle.featurePearson(column(fp, f), column(audit.dense.get(c), f));
      }
      r.put(c, rs);
    }
  }

  private static Map<String, List<Row>> collect(AnalysisTables t) {
    Map<String, List<Row>> m = new HashMap<>();
    t.byName().forEach((name, table) -> m.put(name, table.collectAsList()));
    return m;
  }

  private static List<Row> survival(String condition) {
    return rows.get("feature_survival").stream()
        .filter(r -> r.getString(0).equals(condition))
        .toList();
  }

  private static String cls(double r) {
    return r > 0.9
        ? AnalysisSchemas.SURVIVED
        : r < 0.5 ? AnalysisSchemas.DAMAGED : AnalysisSchemas.BLURRED;
  }

  private static double[] activeR(String condition) {
    List<Double> xs = new ArrayList<>();
    for (int f = 0; f < FEATURES; f++) {
      if (active[f]) {
        xs.add(r.get(condition)[f]);
      }
    }
    return xs.stream().mapToDouble(Double::doubleValue).toArray();
  }

  @Test
  void schemasAreTheDeclaredOnes() {
    assertSchema(AnalysisSchemas.FEATURE_STATS, tables.featureStats());
    assertSchema(AnalysisSchemas.FEATURE_SURVIVAL, tables.featureSurvival());
    assertSchema(AnalysisSchemas.CONDITIONS, tables.conditions());
    assertSchema(AnalysisSchemas.QUARTILES, tables.quartiles());
    assertSchema(AnalysisSchemas.OVERLAP, tables.overlap());
    assertSchema(AnalysisSchemas.PREDICTOR, tables.predictor());
    assertSchema(AnalysisSchemas.PREDICTOR_ROC, tables.predictorRoc());
  }

  private static void assertSchema(StructType expected, Dataset<Row> table) {
    StructField[] got = table.schema().fields();
    assertEquals(expected.fields().length, got.length, table.schema().treeString());
    for (int i = 0; i < got.length; i++) {
      assertEquals(expected.fields()[i].name(), got[i].name());
      assertEquals(expected.fields()[i].dataType(), got[i].dataType(), got[i].name());
    }
  }

  @Test
  void featureStatsMatchDense() {
    List<Row> stats = rows.get("feature_stats");
    assertEquals(FEATURES, stats.size());
    float[][] fp = audit.dense.get("fp");
    int inactive = 0;
    for (int f = 0; f < FEATURES; f++) {
      Row row = stats.get(f);
      double[] x = column(fp, f);
      assertEquals(f, row.getInt(0));
      assertEquals(DenseOracle.firingRate(x), row.getDouble(1), EPS, "firing_rate " + f);
      assertEquals(DenseOracle.mean(x), row.getDouble(2), EPS, "mean_act " + f);
      assertEquals(DenseOracle.max(x), row.getDouble(3), EPS, "max_act " + f);
      assertEquals(DenseOracle.meanWhenActive(x), row.getDouble(4), EPS, "mean_when_active");
      assertEquals(active[f], row.getBoolean(5), "active " + f);
      inactive += active[f] ? 0 : 1;
    }
    assertEquals(10, inactive, "features 30-39 are inactive by construction");
    assertEquals(0.0, stats.get(39).getDouble(1), "a feature that never fires has zeros");
  }

  @Test
  void pearsonDamageAndClassesMatchDense() {
    List<Row> survival = rows.get("feature_survival");
    assertEquals(SyntheticAudit.CONDITIONS.size() * FEATURES, survival.size());
    Set<String> classes = new HashSet<>();
    for (Row row : survival) {
      String c = row.getString(0);
      int f = row.getInt(1);
      double expected = r.get(c)[f];
      assertEquals(active[f], row.getBoolean(2), "active");
      assertEquals(expected, row.getDouble(3), EPS, c + " feature " + f);
      assertEquals(1 - expected, row.getDouble(4), EPS, "damage");
      assertEquals(cls(expected), row.getString(5), c + " feature " + f);
      assertEquals(DenseOracle.firingRate(column(audit.dense.get(c), f)), row.getDouble(6), EPS);
      classes.add(row.getString(5));
    }
    assertEquals(3, classes.size(), "the fixture exercises every class");
  }

  @Test
  void referenceAndExactCopyGiveROneAndPassTheNullRun() {
    for (String c : List.of("fp", "copy")) {
      for (Row row : survival(c)) {
        if (row.getBoolean(2)) {
          assertEquals(1.0, row.getDouble(3), 0.0, row.toString());
        }
      }
    }
    // Analysis.run has checked the null run "copy" (settings.nullRun()); the reference itself
    // passes too.
    NullRun.check(tables.featureSurvival(), "fp", 0.0);
  }

  @Test
  void nullRunNamesTheOffendingFeatures() {
    long bad = NullRun.offenders(tables.featureSurvival(), "noisy", NullRun.TOLERANCE).count();
    long expected = 0;
    for (int f = 0; f < FEATURES; f++) {
      expected += active[f] && Math.abs(r.get("noisy")[f] - 1) > NullRun.TOLERANCE ? 1 : 0;
    }
    assertEquals(expected, bad);
    QdmException e =
        assertThrows(
            QdmException.class,
            () -> NullRun.check(tables.featureSurvival(), "noisy", NullRun.TOLERANCE));
    assertTrue(
        e.getMessage().contains("null run failed") && e.getMessage().contains("feature"),
        e.getMessage());
  }

  @Test
  void deadAndConstantFeaturesGetRZero() {
    List<Row> zero = new ArrayList<>();
    zero.add(survival("dies").get(3));
    zero.add(survival("dies").get(4));
    zero.add(survival("constant").get(5));
    assertEquals(List.of(3, 4, 5), zero.stream().map(row -> row.getInt(1)).toList());
    for (Row row : zero) {
      assertTrue(row.getBoolean(2), "the fixture makes these features active");
      assertEquals(0.0, row.getDouble(3), 0.0, row.toString());
      assertEquals(AnalysisSchemas.DAMAGED, row.getString(5));
    }
    // Inactive features never fire under the reference: constant x, r = 0, yet no percentage
    // counts them (conditionsMatchDense).
    assertEquals(0.0, survival("fp").get(39).getDouble(3));
  }

  @Test
  void conditionsMatchDense() {
    List<Row> conditions = rows.get("conditions");
    assertEquals(SyntheticAudit.CONDITIONS.size(), conditions.size());
    double refPpl = chunkedPpl("fp");
    double refSliding = slidingPpl("fp");
    for (int i = 0; i < conditions.size(); i++) {
      Row row = conditions.get(i);
      String c = SyntheticAudit.CONDITIONS.get(i);
      assertEquals(c, row.getString(0), "configuration order");
      double[] rs = activeR(c);
      long n = rs.length;
      assertEquals(n, row.getLong(row.fieldIndex("n_active")));
      assertEquals(pct(rs, AnalysisSchemas.SURVIVED), get(row, "survived_pct"), EPS, c);
      assertEquals(pct(rs, AnalysisSchemas.BLURRED), get(row, "blurred_pct"), EPS, c);
      assertEquals(pct(rs, AnalysisSchemas.DAMAGED), get(row, "damaged_pct"), EPS, c);
      assertEquals(DenseOracle.mean(rs), get(row, "mean_r"), EPS, c);
      assertEquals(DenseOracle.median(rs), get(row, "median_r"), EPS, c);
      assertEquals(chunkedPpl(c), get(row, "ppl_chunked"), 1e-9 * chunkedPpl(c));
      assertEquals(batchMeanPpl(c), get(row, "ppl_chunked_batch_mean"), 1e-9 * batchMeanPpl(c));
      assertEquals(100 * (chunkedPpl(c) / refPpl - 1), get(row, "delta_ppl_pct"), 1e-9);
      if (c.equals("constant")) {
        assertTrue(row.isNullAt(row.fieldIndex("ppl_sliding")), "no slide windows: null");
        assertTrue(row.isNullAt(row.fieldIndex("delta_ppl_sliding_pct")));
      } else {
        assertEquals(slidingPpl(c), get(row, "ppl_sliding"), 1e-9 * slidingPpl(c));
        assertEquals(
            100 * (slidingPpl(c) / refSliding - 1), get(row, "delta_ppl_sliding_pct"), 1e-9);
      }
    }
    Row fp = conditions.get(0);
    assertEquals("none", fp.getString(1));
    assertTrue(fp.isNullAt(2) && fp.isNullAt(3));
    assertEquals(100.0, get(fp, "survived_pct"), 0.0);
    assertEquals(0.0, get(fp, "delta_ppl_pct"), 0.0);
    assertEquals(6, conditions.get(2).getInt(2), "bits");
    assertEquals(0.3, conditions.get(3).getDouble(3), 0.0, "sparsity");
    // Percentages ignore inactive features: they must differ from an all-feature count here.
    double[] all = r.get("dies");
    assertFalse(
        Math.abs(pct(all, AnalysisSchemas.DAMAGED) - get(conditions.get(3), "damaged_pct")) < 1e-6);
  }

  private static double get(Row row, String name) {
    return row.getDouble(row.fieldIndex(name));
  }

  private static double pct(double[] rs, String cls) {
    return 100.0 * java.util.Arrays.stream(rs).filter(x -> cls(x).equals(cls)).count() / rs.length;
  }

  private static double chunkedPpl(String c) {
    double s = 0;
    long n = 0;
    for (List<Double> xs : audit.nll.get(c).get(Schemas.CHUNK).values()) {
      for (double x : xs) {
        s += x;
        n++;
      }
    }
    return Math.exp(s / n);
  }

  private static double slidingPpl(String c) {
    double s = 0;
    long n = 0;
    for (List<Double> xs : audit.nll.get(c).get(Schemas.SLIDE).values()) {
      for (double x : xs) {
        s += x;
        n++;
      }
    }
    return Math.exp(s / n);
  }

  private static double batchMeanPpl(String c) {
    List<Double> means = new ArrayList<>();
    for (List<Double> xs : audit.nll.get(c).get(Schemas.CHUNK).values()) {
      means.add(DenseOracle.mean(xs.stream().mapToDouble(Double::doubleValue).toArray()));
    }
    return Math.exp(DenseOracle.mean(means.stream().mapToDouble(Double::doubleValue).toArray()));
  }

  /** The FP predictors of the active features, from the dense arrays; rows in feature order. */
  private static Map<String, double[]> densePredictors(List<Integer> features) {
    float[][] fp = audit.dense.get("fp");
    Map<String, double[]> m = new HashMap<>();
    for (String p : Predictors.NAMES) {
      m.put(p, new double[features.size()]);
    }
    for (int i = 0; i < features.size(); i++) {
      double[] x = column(fp, features.get(i));
      double rate = DenseOracle.firingRate(x);
      double mean = Math.max(DenseOracle.mean(x), 1e-8);
      double max = DenseOracle.max(x);
      m.get("rarity")[i] = -Math.log(Math.max(rate, 1e-8));
      m.get("log_mean_act")[i] = Math.log(mean);
      m.get("log_max_act")[i] = Math.log(Math.max(max, 1e-8));
      m.get("log_max_over_mean")[i] = Math.log(Math.max(max / mean, 1));
    }
    return m;
  }

  private static List<Integer> activeFeatures() {
    List<Integer> fs = new ArrayList<>();
    for (int f = 0; f < FEATURES; f++) {
      if (active[f]) {
        fs.add(f);
      }
    }
    return fs;
  }

  @Test
  void quartilesMatchDense() {
    List<Integer> features = activeFeatures();
    Map<String, double[]> preds = densePredictors(features);
    Map<String, Row> got = new HashMap<>();
    for (Row row : rows.get("quartiles")) {
      got.put(row.getString(0) + "/" + row.getString(1) + "/" + row.getInt(2), row);
    }
    assertEquals(SyntheticAudit.CONDITIONS.size() * Predictors.NAMES.size() * 4, got.size());
    for (String stat : Predictors.NAMES) {
      double[] v = preds.get(stat);
      double[] e = {
        java.util.Arrays.stream(v).min().orElseThrow(),
        DenseOracle.quantile(v, 0.25),
        DenseOracle.quantile(v, 0.5),
        DenseOracle.quantile(v, 0.75),
        java.util.Arrays.stream(v).max().orElseThrow()
      };
      for (String c : SyntheticAudit.CONDITIONS) {
        for (int q = 1; q <= 4; q++) {
          long n = 0;
          long survived = 0;
          for (int i = 0; i < v.length; i++) {
            boolean in = q == 1 ? v[i] <= e[1] : v[i] > e[q - 1] && v[i] <= e[q];
            if (in) {
              n++;
              survived += r.get(c)[features.get(i)] > 0.9 ? 1 : 0;
            }
          }
          Row row = got.get(c + "/" + stat + "/" + q);
          assertNotNull(row, c + "/" + stat + "/" + q);
          assertEquals(e[q - 1], row.getDouble(3), EPS, "lower");
          assertEquals(e[q], row.getDouble(4), EPS, "upper");
          assertEquals(n, row.getLong(5), c + "/" + stat + "/" + q);
          assertEquals(survived, row.getLong(6));
          if (n == 0) {
            assertTrue(row.isNullAt(7));
          } else {
            assertEquals(100.0 * survived / n, row.getDouble(7), EPS);
          }
        }
      }
    }
    assertTrue(got.values().stream().mapToLong(row -> row.getLong(5)).sum() > 0);
  }

  @Test
  void overlapMatchesDense() {
    List<Row> overlap = rows.get("overlap");
    assertEquals(settings.overlap().size(), overlap.size());
    for (int i = 0; i < overlap.size(); i++) {
      Row row = overlap.get(i);
      ConditionPair pair = settings.overlap().get(i);
      assertEquals(pair.a(), row.getString(0));
      assertEquals(pair.b(), row.getString(1));
      double[] a = activeR(pair.a());
      double[] b = activeR(pair.b());
      assertEquals(a.length, row.getLong(2));
      assertEquals(jaccard(a, b, 0.9, true), row.getDouble(6), EPS, "jaccard_nonsurvived");
      assertEquals(jaccard(a, b, 0.5, false), row.getDouble(10), EPS, "jaccard_damaged");
      double[] da = java.util.Arrays.stream(a).map(x -> 1 - x).toArray();
      double[] db = java.util.Arrays.stream(b).map(x -> 1 - x).toArray();
      Double spearman = DenseOracle.spearman(da, db);
      Double pearson =
          DenseOracle.constant(da) || DenseOracle.constant(db) ? null : DenseOracle.pearson(da, db);
      assertNullableEquals(spearman, row, "spearman_damage");
      assertNullableEquals(pearson, row, "pearson_damage");
    }
    // copy vs constant: copy's damage is constant (all 0) -> correlations undefined (null);
    // copy has no non-survived features -> the Jaccard is over constant's set alone.
    assertTrue(overlap.get(1).isNullAt(overlap.get(1).fieldIndex("spearman_damage")));
    assertNotNull(overlap.get(0).get(overlap.get(0).fieldIndex("spearman_damage")));
  }

  private static void assertNullableEquals(Double expected, Row row, String name) {
    int i = row.fieldIndex(name);
    if (expected == null) {
      assertTrue(row.isNullAt(i), name);
    } else {
      assertEquals(expected, row.getDouble(i), EPS, name);
    }
  }

  private static double jaccard(double[] a, double[] b, double t, boolean inclusive) {
    long both = 0;
    long any = 0;
    for (int i = 0; i < a.length; i++) {
      boolean ia = inclusive ? a[i] <= t : a[i] < t;
      boolean ib = inclusive ? b[i] <= t : b[i] < t;
      both += ia && ib ? 1 : 0;
      any += ia || ib ? 1 : 0;
    }
    return any == 0 ? 1.0 : (double) both / any;
  }

  @Test
  void jaccardIsOneWhenBothSetsAreEmpty() {
    AnalysisSettings s = SyntheticAudit.settings();
    AnalysisSettings copyVsFp =
        new AnalysisSettings(
            s.reference(),
            s.dSae(),
            s.activeFiringRate(),
            s.survivedAbove(),
            s.damagedBelow(),
            List.of(new ConditionPair("fp", "copy")),
            s.predictorCondition(),
            s.folds(),
            s.seed(),
            s.nullRun(),
            s.conditions());
    Row row = Overlap.compute(tables.featureSurvival(), copyVsFp).first();
    assertEquals(0, row.getLong(row.fieldIndex("n_nonsurvived_a")));
    assertEquals(1.0, get(row, "jaccard_nonsurvived"), 0.0);
    assertEquals(1.0, get(row, "jaccard_damaged"), 0.0);
  }

  @Test
  void predictorMatchesNewtonCrossValidation() {
    List<Integer> features = activeFeatures();
    Map<String, double[]> preds = densePredictors(features);
    double[] label = new double[features.size()];
    List<Row> labeledRows = new ArrayList<>();
    for (int i = 0; i < features.size(); i++) {
      label[i] = r.get("noisy")[features.get(i)] > 0.9 ? 1 : 0;
      labeledRows.add(RowFactory.create(features.get(i), label[i]));
    }
    long nSurvived = (long) java.util.Arrays.stream(label).sum();
    assertTrue(nSurvived >= 5 && label.length - nSurvived >= 5, "fixture: both classes >= 5");

    StructType schema =
        new StructType().add("feature", DataTypes.IntegerType).add("label", DataTypes.DoubleType);
    Map<Integer, Integer> foldOf = new HashMap<>();
    for (Row row :
        SurvivalPredictor.withFolds(spark.createDataFrame(labeledRows, schema), 5, 0)
            .collectAsList()) {
      foldOf.put(row.getInt(0), row.getInt(2));
    }

    List<Row> predictor = rows.get("predictor");
    assertEquals(1 + Predictors.NAMES.size(), predictor.size());
    for (Row row : predictor) {
      String set = row.getString(0);
      List<String> names = set.equals("all") ? Predictors.NAMES : List.of(set);
      double[][] x = new double[features.size()][names.size()];
      for (int i = 0; i < features.size(); i++) {
        for (int j = 0; j < names.size(); j++) {
          x[i][j] = preds.get(names.get(j))[i];
        }
      }
      List<Double> aucs = new ArrayList<>();
      List<Double> pooledScore = new ArrayList<>();
      List<Double> pooledLabel = new ArrayList<>();
      for (int fold = 0; fold < 5; fold++) {
        List<double[]> trainX = new ArrayList<>();
        List<Double> trainY = new ArrayList<>();
        List<double[]> testX = new ArrayList<>();
        List<Double> testY = new ArrayList<>();
        for (int i = 0; i < features.size(); i++) {
          boolean test = foldOf.get(features.get(i)) == fold;
          (test ? testX : trainX).add(x[i]);
          (test ? testY : trainY).add(label[i]);
        }
        double[][] tx = trainX.toArray(new double[0][]);
        double[][] ms = DenseOracle.standardization(tx);
        double[] theta =
            DenseOracle.logistic(
                DenseOracle.standardize(tx, ms),
                trainY.stream().mapToDouble(Double::doubleValue).toArray(),
                1.0);
        double[][] zt = DenseOracle.standardize(testX.toArray(new double[0][]), ms);
        double[] score = new double[zt.length];
        for (int i = 0; i < zt.length; i++) {
          score[i] = theta[0];
          for (int j = 0; j < names.size(); j++) {
            score[i] += theta[j + 1] * zt[i][j];
          }
        }
        aucs.add(DenseOracle.auc(score, testY.stream().mapToDouble(Double::doubleValue).toArray()));
        for (int i = 0; i < score.length; i++) {
          pooledScore.add(score[i]);
          pooledLabel.add(testY.get(i));
        }
      }
      if (set.equals("all")) {
        // the ROC curve of the pooled held-out margins encloses their pooled AUC
        List<double[]> curve = new ArrayList<>();
        for (Row p : rows.get("predictor_roc")) {
          if (p.getString(0).equals("all")) {
            curve.add(new double[] {p.getDouble(2), p.getDouble(3)});
          }
        }
        assertEquals(
            DenseOracle.auc(
                pooledScore.stream().mapToDouble(Double::doubleValue).toArray(),
                pooledLabel.stream().mapToDouble(Double::doubleValue).toArray()),
            RocCurve.area(curve),
            1e-9,
            "pooled ROC area");
      }
      List<Double> got = row.getList(row.fieldIndex("fold_aucs"));
      for (int k = 0; k < 5; k++) {
        assertEquals(aucs.get(k), got.get(k), 1e-12, set + " fold " + k);
      }
      double mean = DenseOracle.mean(aucs.stream().mapToDouble(Double::doubleValue).toArray());
      double var = 0;
      for (double a : aucs) {
        var += (a - mean) * (a - mean);
      }
      assertEquals(mean, get(row, "auc_mean"), 1e-12, set);
      assertEquals(Math.sqrt(var / 5), get(row, "auc_std"), 1e-12, set);

      double[][] ms = DenseOracle.standardization(x);
      double[] theta = DenseOracle.logistic(DenseOracle.standardize(x, ms), label, 1.0);
      assertEquals(theta[0], get(row, "intercept"), 1e-5, set + " intercept");
      for (String p : Predictors.NAMES) {
        int j = names.indexOf(p);
        if (j < 0) {
          assertTrue(row.isNullAt(row.fieldIndex("coef_" + p)));
        } else {
          assertEquals(theta[j + 1], get(row, "coef_" + p), 1e-5, set + " " + p);
        }
      }
      assertEquals(features.size(), row.getLong(row.fieldIndex("n_features")));
      assertEquals(nSurvived, row.getLong(row.fieldIndex("n_survived")));
    }
  }

  @Test
  void foldsAreStratifiedAndFollowTheSeed() {
    List<Row> labeled = new ArrayList<>();
    for (int f = 0; f < 103; f++) {
      labeled.add(RowFactory.create(f, f % 4 == 0 ? 1.0 : 0.0));
    }
    StructType schema =
        new StructType().add("feature", DataTypes.IntegerType).add("label", DataTypes.DoubleType);
    Dataset<Row> data = spark.createDataFrame(labeled, schema);
    Map<Integer, Integer> seed0 = folds(SurvivalPredictor.withFolds(data, 5, 0));
    Map<Integer, Integer> seed1 = folds(SurvivalPredictor.withFolds(data, 5, 1));
    assertEquals(seed0, folds(SurvivalPredictor.withFolds(data, 5, 0)), "deterministic");
    assertFalse(seed0.equals(seed1), "the seed changes the shuffle");
    for (double label : new double[] {0.0, 1.0}) {
      int[] perFold = new int[5];
      int total = 0;
      for (int f = 0; f < 103; f++) {
        if ((f % 4 == 0 ? 1.0 : 0.0) == label) {
          perFold[seed0.get(f)]++;
          total++;
        }
      }
      for (int k = 0; k < 5; k++) {
        assertTrue(
            perFold[k] == total / 5 || perFold[k] == total / 5 + 1,
            "stratified: class " + label + " fold " + k + " has " + perFold[k]);
      }
    }
    List<Integer> order = new ArrayList<>(seed0.keySet());
    assertFalse(order.stream().allMatch(f -> seed0.get(f) == (f % 5)), "shuffled");
  }

  private static Map<Integer, Integer> folds(Dataset<Row> withFolds) {
    Map<Integer, Integer> m = new HashMap<>();
    for (Row row : withFolds.collectAsList()) {
      m.put(row.getInt(0), row.getInt(2));
    }
    return m;
  }

  @Test
  void sameInputsGiveIdenticalRowsEvenWhenPartitionedDifferently() {
    Dataset<Row> codes = audit.codes(spark).repartition(7);
    Dataset<Row> nll = audit.tokenNll(spark).repartition(3);
    AnalysisTables again = Analysis.run(spark, codes, nll, TOKENS, settings);
    try {
      collect(again).forEach((name, table) -> assertEquals(rows.get(name), table, name));
    } finally {
      again.unpersist();
    }
  }

  @Test
  void badInputsFailWithClearMessages() {
    Dataset<Row> codes = audit.codes(spark);
    QdmException missing =
        assertThrows(
            QdmException.class,
            () ->
                Analysis.run(
                    spark, codes.drop("activation"), audit.tokenNll(spark), TOKENS, settings));
    assertTrue(missing.getMessage().contains("activation"), missing.getMessage());

    QdmException outOfRange =
        assertThrows(
            QdmException.class,
            () ->
                Analysis.run(
                    spark,
                    codes.withColumn("feature", codes.col("feature").plus(5)),
                    audit.tokenNll(spark),
                    TOKENS,
                    settings));
    assertTrue(
        outOfRange.getMessage().startsWith("codes: feature must be in [0, 40)")
            && outOfRange
                .getMessage()
                .contains("bad row (condition, window_id, position, feature," + " activation) = ("),
        outOfRange.getMessage());

    QdmException silent =
        assertThrows(
            QdmException.class,
            () ->
                Analysis.run(
                    spark,
                    codes.filter("condition != 'dies'"),
                    audit.tokenNll(spark),
                    TOKENS,
                    settings));
    assertTrue(silent.getMessage().contains("dies"), silent.getMessage());

    assertThrows(QdmException.class, () -> FeatureStats.compute(codes, 0, settings));
  }

  @Test
  void settingsRejectUnknownConditions() {
    AnalysisSettings s = SyntheticAudit.settings();
    QdmException e =
        assertThrows(
            QdmException.class,
            () ->
                new AnalysisSettings(
                    "fp",
                    s.dSae(),
                    0.001,
                    0.9,
                    0.5,
                    List.of(new ConditionPair("noisy", "rtn9")),
                    s.predictorCondition(),
                    5,
                    0,
                    Optional.empty(),
                    s.conditions()));
    assertTrue(e.getMessage().startsWith("analysis.overlap[0]: 'rtn9'"), e.getMessage());
    assertThrows(
        QdmException.class,
        () ->
            new AnalysisSettings(
                "fp",
                s.dSae(),
                0.001,
                0.4,
                0.5,
                List.of(),
                s.predictorCondition(),
                5,
                0,
                Optional.empty(),
                s.conditions()));
  }
}
