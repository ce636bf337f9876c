package qdm.analysis;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import qdm.QdmException;
import qdm.tables.AnalysisSchemas;
import qdm.tables.Schemas;

/**
 * The paper's stability checks (docs/method.md §11), from the per-window statistics of the encode
 * pass ({@code window_sums}), never from re-encoding:
 *
 * <ul>
 *   <li>{@code budget} f: the whole analysis (active set, r, classes) on the first floor(f n) chunk
 *       windows in window-id order;
 *   <li>{@code subset} i: the same on a seeded random subset of floor(fraction n) windows (listed
 *       in {@code stability_windows});
 *   <li>{@code threshold} "S/D": the full run's r reclassified with survived r &gt; S, damaged r
 *       &lt; D;
 *   <li>the percentile bootstrap over windows (resampled with replacement, the full run's active
 *       set held fixed): bounds on survived %, damaged % and mean r in {@code conditions}, with
 *       {@code stable}, the paper's pass rules: survived and damaged % within 2 points across
 *       budgets, and across subsets a sample standard deviation below 2 points (survived) and 1
 *       point (damaged).
 * </ul>
 *
 * <p>Window sets are sums of window rows: exact limbs for budgets and subsets, so each row equals
 * what encoding only those windows would give. The bootstrap sums window statistics with integer
 * multiplicities in window order inside one task per feature, and merges its per-sample counts and
 * exact sums of r, so every re-run gives the same bounds. Nothing per window is held in the driver
 * except the multiplicity matrix (samples × windows integers).
 */
public final class Stability {
  private Stability() {}

  /** The per-window statistics of one SAE and the windows they cover. */
  public record PerWindow(Dataset<Row> windowSums, List<Long> windowIds, int length) {}

  /**
   * @param table the {@code stability} rows of one SAE (without its {@code sae} column)
   * @param windows the {@code stability_windows} rows (the same for every SAE)
   * @param bounds per condition: the bootstrap bounds and {@code stable}
   */
  public record Result(Dataset<Row> table, List<Row> windows, Dataset<Row> bounds) {}

  /** A window set: its check, its param and its windows. */
  private record WindowSet(String check, String param, List<Long> ids) {}

  public static final StructType WINDOWS =
      new StructType()
          .add(Schemas.field("check", DataTypes.StringType))
          .add(Schemas.field("param", DataTypes.StringType))
          .add(Schemas.field("window_id", DataTypes.LongType));

  public static final StructType BOUNDS =
      new StructType()
          .add(Schemas.field("condition", DataTypes.StringType))
          .add(Schemas.nullable("survived_pct_lo", DataTypes.DoubleType))
          .add(Schemas.nullable("survived_pct_hi", DataTypes.DoubleType))
          .add(Schemas.nullable("damaged_pct_lo", DataTypes.DoubleType))
          .add(Schemas.nullable("damaged_pct_hi", DataTypes.DoubleType))
          .add(Schemas.nullable("mean_r_lo", DataTypes.DoubleType))
          .add(Schemas.nullable("mean_r_hi", DataTypes.DoubleType))
          .add(Schemas.nullable("stable", DataTypes.BooleanType));

  /** The window sets of the budgets and subsets, in that order. */
  static List<WindowSet> windowSets(List<Long> ids, StabilitySettings st) {
    List<Long> sorted = new ArrayList<>(ids);
    Collections.sort(sorted);
    int n = sorted.size();
    List<WindowSet> sets = new ArrayList<>();
    for (double f : st.budgets()) {
      int m = (int) Math.floor(f * n);
      if (m < 1) {
        throw new QdmException(
            "qdm.analysis.stability.budgets: the budget "
                + f
                + " of "
                + n
                + " chunk windows leaves no window");
      }
      sets.add(new WindowSet("budget", Double.toString(f), sorted.subList(0, m)));
    }
    if (st.subsets().isPresent()) {
      StabilitySettings.Subsets sub = st.subsets().get();
      int m = (int) Math.floor(sub.fraction() * n);
      if (m < 1) {
        throw new QdmException(
            "qdm.analysis.stability.subsets.fraction: "
                + sub.fraction()
                + " of "
                + n
                + " chunk windows leaves no window");
      }
      Random random = new Random(sub.seed());
      for (int i = 1; i <= sub.count(); i++) {
        List<Long> shuffled = new ArrayList<>(sorted);
        Collections.shuffle(shuffled, random);
        List<Long> chosen = new ArrayList<>(shuffled.subList(0, m));
        Collections.sort(chosen);
        sets.add(new WindowSet("subset", Integer.toString(i), chosen));
      }
    }
    return sets;
  }

  /** Checks that every window set of {@code st} over {@code windows} windows is non-empty. */
  public static void checkWindows(int windows, StabilitySettings st) {
    List<Long> ids = new ArrayList<>();
    for (long i = 0; i < windows; i++) {
      ids.add(i);
    }
    windowSets(ids, st);
  }

  /**
   * @param in the SAE's window statistics
   * @param featureSurvival the full run's {@link FeatureSurvival} table of that SAE
   */
  public static Result compute(
      PerWindow in, Dataset<Row> featureSurvival, AnalysisSettings s, StabilitySettings st) {
    SparkSession spark = featureSurvival.sparkSession();
    List<WindowSet> sets = windowSets(in.windowIds(), st);
    List<Row> windowRows = new ArrayList<>();
    List<Row> membership = new ArrayList<>();
    List<Row> setRows = new ArrayList<>();
    for (int i = 0; i < sets.size(); i++) {
      WindowSet set = sets.get(i);
      setRows.add(
          RowFactory.create(
              i,
              set.check(),
              set.param(),
              set.ids().size(),
              (long) set.ids().size() * in.length()));
      for (long id : set.ids()) {
        membership.add(RowFactory.create(i, id));
        if (set.check().equals("subset")) {
          windowRows.add(RowFactory.create(set.check(), set.param(), id));
        }
      }
    }
    Dataset<Row> joined = joined(in.windowSums(), s).persist();
    try {
      List<Dataset<Row>> parts = new ArrayList<>();
      if (!sets.isEmpty()) {
        parts.add(windowSetRows(spark, joined, setRows, membership, s));
      }
      if (!st.thresholds().isEmpty()) {
        parts.add(thresholdRows(spark, featureSurvival, s, st, in.windowIds().size()));
      }
      Dataset<Row> table =
          parts.isEmpty()
              ? spark.createDataFrame(List.of(), AnalysisSchemas.STABILITY)
              : parts.stream().reduce(Dataset::unionAll).get();
      table =
          Inputs.output(table, AnalysisSchemas.STABILITY, "ordinal", "check_order", "param_order");
      List<Row> collected = table.collectAsList();
      Map<String, double[]> boot =
          st.bootstrap().isPresent()
              ? Bootstrap.bounds(joined, featureSurvival, in, s, st.bootstrap().get())
              : Map.of();
      List<Row> bounds = new ArrayList<>();
      for (ConditionInfo c : s.conditions()) {
        double[] b = boot.get(c.name());
        List<Object> row = new ArrayList<>();
        row.add(c.name());
        for (int k = 0; k < 6; k++) {
          row.add(b == null ? null : b[k]);
        }
        row.add(stable(collected, c.name(), st));
        bounds.add(RowFactory.create(row.toArray()));
      }
      table = spark.createDataFrame(collected, AnalysisSchemas.STABILITY);
      return new Result(table, windowRows, spark.createDataFrame(bounds, BOUNDS));
    } finally {
      joined.unpersist();
    }
  }

  /**
   * The paper's pass rules for one condition: survived and damaged % vary by less than 2 points
   * across budgets, and across subsets their sample standard deviations are below 2 and 1 points.
   * Null when neither budgets nor subsets ran.
   */
  static Boolean stable(List<Row> stability, String condition, StabilitySettings st) {
    if (st.budgets().isEmpty() && st.subsets().isEmpty()) {
      return null;
    }
    return failedRule(stability, condition).isEmpty();
  }

  /** The first of the paper's pass rules {@code condition} fails, if any (for the report). */
  public static java.util.Optional<String> failedRule(List<Row> stability, String condition) {
    List<double[]> budgets = new ArrayList<>();
    List<double[]> subsets = new ArrayList<>();
    for (Row r : stability) {
      if (!condition.equals(r.getAs("condition"))) {
        continue;
      }
      Double sv = r.getAs("survived_pct");
      Double dm = r.getAs("damaged_pct");
      double[] v = {sv == null ? Double.NaN : sv, dm == null ? Double.NaN : dm};
      if ("budget".equals(r.getAs("check"))) {
        budgets.add(v);
      } else if ("subset".equals(r.getAs("check"))) {
        subsets.add(v);
      }
    }
    if (budgets.size() > 1) {
      if (spread(budgets, 0) >= 2) {
        return java.util.Optional.of("survived % varies by 2 points or more across budgets");
      }
      if (spread(budgets, 1) >= 2) {
        return java.util.Optional.of("damaged % varies by 2 points or more across budgets");
      }
    }
    if (subsets.size() > 1) {
      if (!(sampleStd(subsets, 0) < 2)) {
        return java.util.Optional.of(
            "survived % has a standard deviation of 2 points or more" + " across subsets");
      }
      if (!(sampleStd(subsets, 1) < 1)) {
        return java.util.Optional.of(
            "damaged % has a standard deviation of 1 point or more" + " across subsets");
      }
    }
    return java.util.Optional.empty();
  }

  private static double spread(List<double[]> rows, int k) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double[] r : rows) {
      if (Double.isNaN(r[k])) {
        return Double.POSITIVE_INFINITY;
      }
      lo = Math.min(lo, r[k]);
      hi = Math.max(hi, r[k]);
    }
    return hi - lo;
  }

  /** Standard deviation with n - 1 (pandas' and numpy's ddof = 1). */
  private static double sampleStd(List<double[]> rows, int k) {
    double mean = 0;
    for (double[] r : rows) {
      mean += r[k] / rows.size();
    }
    double ss = 0;
    for (double[] r : rows) {
      ss += (r[k] - mean) * (r[k] - mean);
    }
    return Math.sqrt(ss / (rows.size() - 1));
  }

  /**
   * Per condition, feature and window where either side is non-zero: the reference's statistics
   * ({@code nz_x, fired_x, min_x, max_x, sx_*, sxx_*}) next to the condition's ({@code nz_y, min_y,
   * max_y, sy_*, syy_*, sxy_*}); a side absent in that window is null.
   */
  static Dataset<Row> joined(Dataset<Row> windowSums, AnalysisSettings s) {
    Dataset<Row> x =
        windowSums
            .filter(col("condition").equalTo(s.reference()))
            .select(
                col("feature"),
                col("window_id"),
                col("non_zero").as("nz_x"),
                col("fired").as("fired_x"),
                col("min").as("min_x"),
                col("max").as("max_x"),
                col("sum_y_a").as("sx_a"),
                col("sum_y_b").as("sx_b"),
                col("sum_y_c").as("sx_c"),
                col("sum_yy_a").as("sxx_a"),
                col("sum_yy_b").as("sxx_b"),
                col("sum_yy_c").as("sxx_c"));
    Dataset<Row> y =
        windowSums.select(
            col("condition"),
            col("feature"),
            col("window_id"),
            col("non_zero").as("nz_y"),
            col("min").as("min_y"),
            col("max").as("max_y"),
            col("sum_y_a").as("sy_a"),
            col("sum_y_b").as("sy_b"),
            col("sum_y_c").as("sy_c"),
            col("sum_yy_a").as("syy_a"),
            col("sum_yy_b").as("syy_b"),
            col("sum_yy_c").as("syy_c"),
            col("sum_xy_a").as("sxy_a"),
            col("sum_xy_b").as("sxy_b"),
            col("sum_xy_c").as("sxy_c"));
    return Conditions.table(windowSums.sparkSession(), s)
        .select("condition", "ordinal")
        .crossJoin(x)
        .join(y, new String[] {"condition", "feature", "window_id"}, "full_outer")
        .drop("ordinal");
  }

  private static final List<String> LIMB_SUMS = List.of("sx", "sxx", "sy", "syy", "sxy");

  private static Dataset<Row> windowSetRows(
      SparkSession spark,
      Dataset<Row> joined,
      List<Row> setRows,
      List<Row> membership,
      AnalysisSettings s) {
    StructType setSchema =
        new StructType()
            .add(Schemas.field("set", DataTypes.IntegerType))
            .add(Schemas.field("check", DataTypes.StringType))
            .add(Schemas.field("param", DataTypes.StringType))
            .add(Schemas.field("windows", DataTypes.IntegerType))
            .add(Schemas.field("n", DataTypes.LongType));
    StructType memberSchema =
        new StructType()
            .add(Schemas.field("set", DataTypes.IntegerType))
            .add(Schemas.field("window_id", DataTypes.LongType));
    List<Column> aggs = new ArrayList<>();
    aggs.add(sum(coalesce(col("fired_x"), lit(0L))).as("fired_x"));
    aggs.add(min("min_x").as("min_x"));
    aggs.add(max("max_x").as("max_x"));
    aggs.add(sum(coalesce(col("nz_y"), lit(0L))).as("nz_y"));
    aggs.add(min("min_y").as("min_y"));
    aggs.add(max("max_y").as("max_y"));
    for (String name : LIMB_SUMS) {
      for (String limb : List.of("a", "b", "c")) {
        aggs.add(sum(coalesce(col(name + "_" + limb), lit(0L))).as(name + "_" + limb));
      }
    }
    Dataset<Row> sums =
        joined
            .join(spark.createDataFrame(membership, memberSchema), "window_id")
            .groupBy("set", "condition", "feature")
            .agg(sum(coalesce(col("nz_x"), lit(0L))).as("nz_x"), aggs.toArray(new Column[0]))
            .join(spark.createDataFrame(setRows, setSchema), "set");
    return summarize(sums, col("n"), s)
        .select(
            col("condition"),
            col("check"),
            col("param"),
            col("windows"),
            col("survived_pct"),
            col("blurred_pct"),
            col("damaged_pct"),
            col("mean_r"),
            col("set").as("param_order"))
        .join(Conditions.table(spark, s).select("condition", "ordinal"), "condition")
        .withColumn("check_order", when(col("check").equalTo("budget"), 0).otherwise(1));
  }

  /**
   * Per window set and condition, from summed statistics: the active set of the reference on those
   * windows, Pearson r per feature (as {@link FeatureSurvival}), the class percentages and mean r
   * over active features.
   */
  private static Dataset<Row> summarize(Dataset<Row> sums, Column n, AnalysisSettings s) {
    Column nd = n.cast("double");
    Column nzX = col("nz_x");
    Column nzY = col("nz_y");
    Column constant =
        Pearson.constant(nzX, col("min_x"), col("max_x"), n)
            .or(Pearson.constant(nzY, col("min_y"), col("max_y"), n));
    Column r =
        Pearson.r(
            nd,
            ExactSum.value("sx"),
            ExactSum.value("sy"),
            ExactSum.value("sxx"),
            ExactSum.value("syy"),
            ExactSum.value("sxy"),
            constant,
            lit(0.0));
    Column[] sumR = ExactSum.of(col("r"), "sum_r");
    Dataset<Row> perFeature =
        sums.withColumn("r", r)
            .filter(col("fired_x").divide(nd).gt(s.activeFiringRate()))
            .withColumn("class", Classes.of(col("r"), s));
    Column cls = col("class");
    Column nActive = col("n_active");
    return perFeature
        .groupBy("set", "check", "param", "windows", "condition")
        .agg(
            count(lit(1)).as("n_active"),
            count(when(cls.equalTo(AnalysisSchemas.SURVIVED), 1)).as("n_survived"),
            count(when(cls.equalTo(AnalysisSchemas.BLURRED), 1)).as("n_blurred"),
            count(when(cls.equalTo(AnalysisSchemas.DAMAGED), 1)).as("n_damaged"),
            sumR[0],
            sumR[1],
            sumR[2])
        .withColumn("survived_pct", col("n_survived").multiply(100.0).divide(nActive))
        .withColumn("blurred_pct", col("n_blurred").multiply(100.0).divide(nActive))
        .withColumn("damaged_pct", col("n_damaged").multiply(100.0).divide(nActive))
        .withColumn("mean_r", ExactSum.value("sum_r").divide(nActive));
  }

  /** The full run's r of active features reclassified with each (survived, damaged) pair. */
  private static Dataset<Row> thresholdRows(
      SparkSession spark,
      Dataset<Row> featureSurvival,
      AnalysisSettings s,
      StabilitySettings st,
      int windows) {
    StructType schema =
        new StructType()
            .add(Schemas.field("param_order", DataTypes.IntegerType))
            .add(Schemas.field("param", DataTypes.StringType))
            .add(Schemas.field("s", DataTypes.DoubleType))
            .add(Schemas.field("d", DataTypes.DoubleType));
    List<Row> pairs = new ArrayList<>();
    for (int i = 0; i < st.thresholds().size(); i++) {
      StabilitySettings.Threshold p = st.thresholds().get(i);
      pairs.add(RowFactory.create(i, p.param(), p.survived(), p.damaged()));
    }
    Column r = col("pearson");
    Column[] sumR = ExactSum.of(r, "sum_r");
    Column nActive = col("n_active");
    return featureSurvival
        .filter(col("active"))
        .select("condition", "pearson")
        .join(Conditions.table(spark, s).select("condition", "ordinal"), "condition")
        .crossJoin(spark.createDataFrame(pairs, schema))
        .groupBy("condition", "ordinal", "param_order", "param")
        .agg(
            count(lit(1)).as("n_active"),
            count(when(r.gt(col("s")), 1)).as("n_survived"),
            count(when(r.lt(col("d")), 1)).as("n_damaged"),
            sumR[0],
            sumR[1],
            sumR[2])
        .select(
            col("condition"),
            lit("threshold").as("check"),
            col("param"),
            lit(windows).as("windows"),
            col("n_survived").multiply(100.0).divide(nActive).as("survived_pct"),
            nActive
                .minus(col("n_survived"))
                .minus(col("n_damaged"))
                .multiply(100.0)
                .divide(nActive)
                .as("blurred_pct"),
            col("n_damaged").multiply(100.0).divide(nActive).as("damaged_pct"),
            ExactSum.value("sum_r").divide(nActive).as("mean_r"),
            col("param_order"),
            col("ordinal"),
            lit(2).as("check_order"));
  }

  /** numpy.percentile(values, q) with linear interpolation between closest ranks. */
  static double percentile(double[] values, double q) {
    double[] s = values.clone();
    java.util.Arrays.sort(s);
    double rank = q / 100 * (s.length - 1);
    int lo = (int) Math.floor(rank);
    int hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (rank - lo) * (s[hi] - s[lo]);
  }
}
