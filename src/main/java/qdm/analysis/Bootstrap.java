package qdm.analysis;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import qdm.measure.Limbs;
import qdm.tables.Schemas;

/**
 * The percentile bootstrap of {@link Stability}: B resamplings of the n chunk windows with
 * replacement (multiplicities drawn from a seeded generator on the driver and broadcast), each
 * giving survived %, damaged % and mean r over the full run's active features; the bounds are the
 * (1 - confidence) / 2 and (1 + confidence) / 2 percentiles over samples, numpy's linear ones.
 *
 * <p>One task holds one feature's window rows at a time (they arrive sorted by condition, feature
 * and window) and adds, per sample, its class and r to per-condition counters, which Spark then
 * sums (r as exact limbs): the driver never sees per-feature or per-window data.
 */
final class Bootstrap {
  private Bootstrap() {}

  private static final StructType OUT =
      new StructType()
          .add(Schemas.field("condition", DataTypes.StringType))
          .add(Schemas.field("sample", DataTypes.IntegerType))
          .add(Schemas.field("n_active", DataTypes.LongType))
          .add(Schemas.field("n_survived", DataTypes.LongType))
          .add(Schemas.field("n_damaged", DataTypes.LongType))
          .add(Schemas.field("sum_r_a", DataTypes.LongType))
          .add(Schemas.field("sum_r_b", DataTypes.LongType))
          .add(Schemas.field("sum_r_c", DataTypes.LongType));

  /**
   * Per condition: {survived_lo, survived_hi, damaged_lo, damaged_hi, mean_r_lo, mean_r_hi}.
   *
   * @param joined {@link Stability#joined} rows
   */
  static Map<String, double[]> bounds(
      Dataset<Row> joined,
      Dataset<Row> featureSurvival,
      Stability.PerWindow in,
      AnalysisSettings s,
      StabilitySettings.Bootstrap b) {
    SparkSession spark = joined.sparkSession();
    long[] ids = in.windowIds().stream().mapToLong(Long::longValue).sorted().toArray();
    int n = ids.length;
    int[][] multiplicity = new int[b.samples()][n];
    SplittableRandom random = new SplittableRandom(b.seed());
    for (int[] m : multiplicity) {
      for (int i = 0; i < n; i++) {
        m[random.nextInt(n)]++;
      }
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<int[][]> counts = jsc.broadcast(multiplicity);
    Dataset<Row> active =
        featureSurvival
            .filter(col("condition").equalTo(s.reference()).and(col("active")))
            .select("feature");
    Task task = new Task(counts, ids, in.length(), s.survivedAbove(), s.damagedBelow());
    List<Row> rows =
        joined
            .join(active, new String[] {"feature"}, "left_semi")
            .repartition(col("condition"), col("feature"))
            .sortWithinPartitions("condition", "feature", "window_id")
            .mapPartitions(task, Encoders.row(OUT))
            .groupBy("condition", "sample")
            .agg(
                sum("n_active").as("n_active"),
                sum("n_survived").as("n_survived"),
                sum("n_damaged").as("n_damaged"),
                sum("sum_r_a").as("sum_r_a"),
                sum("sum_r_b").as("sum_r_b"),
                sum("sum_r_c").as("sum_r_c"))
            .collectAsList();
    counts.destroy();
    Map<String, double[][]> values = new HashMap<>();
    for (Row r : rows) {
      double[][] v = values.computeIfAbsent(r.getString(0), k -> new double[3][b.samples()]);
      int sample = r.getInt(1);
      double nActive = r.getLong(2);
      v[0][sample] = 100.0 * r.getLong(3) / nActive;
      v[1][sample] = 100.0 * r.getLong(4) / nActive;
      double sumR = Limbs.value(r.getLong(5), r.getLong(6), r.getLong(7));
      v[2][sample] = sumR / nActive;
    }
    double lo = 100 * (1 - b.confidence()) / 2;
    double hi = 100 * (1 + b.confidence()) / 2;
    Map<String, double[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, double[][]> e : values.entrySet()) {
      double[][] v = e.getValue();
      out.put(
          e.getKey(),
          new double[] {
            Stability.percentile(v[0], lo),
            Stability.percentile(v[0], hi),
            Stability.percentile(v[1], lo),
            Stability.percentile(v[1], hi),
            Stability.percentile(v[2], lo),
            Stability.percentile(v[2], hi)
          });
    }
    return out;
  }

  /** One partition's features, each through every sample. */
  private static final class Task implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    /** The window values that add up with multiplicity (the others are minima and maxima). */
    private static final int[] SUMMED = {0, 3, 4, 5, 8, 9, 10};

    private final Broadcast<int[][]> counts;
    private final long[] ids;
    private final int length;
    private final double survived;
    private final double damaged;

    Task(Broadcast<int[][]> counts, long[] ids, int length, double survived, double damaged) {
      this.counts = counts;
      this.ids = ids;
      this.length = length;
      this.survived = survived;
      this.damaged = damaged;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      int[][] m = counts.value();
      int samples = m.length;
      Map<String, long[][]> tallies = new LinkedHashMap<>(); // active, survived, damaged
      Map<String, Limbs> sumR = new HashMap<>();
      List<Row> group = new ArrayList<>();
      String key = null;
      while (rows.hasNext()) {
        Row r = rows.next();
        String k = r.getAs("condition") + "\u0000" + r.getAs("feature");
        if (key != null && !k.equals(key)) {
          feature(group, m, samples, tallies, sumR);
          group.clear();
        }
        key = k;
        group.add(r);
      }
      if (!group.isEmpty()) {
        feature(group, m, samples, tallies, sumR);
      }
      List<Row> out = new ArrayList<>();
      for (Map.Entry<String, long[][]> e : tallies.entrySet()) {
        long[][] t = e.getValue();
        Limbs limbs = sumR.get(e.getKey());
        for (int b = 0; b < samples; b++) {
          long[] l = limbs.limbs(b);
          out.add(RowFactory.create(e.getKey(), b, t[0][b], t[1][b], t[2][b], l[0], l[1], l[2]));
        }
      }
      return out.iterator();
    }

    /** One (condition, feature)'s windows, through every sample. */
    private void feature(
        List<Row> rows,
        int[][] m,
        int samples,
        Map<String, long[][]> tallies,
        Map<String, Limbs> sumR) {
      String condition = rows.get(0).getAs("condition");
      int w = rows.size();
      int[] at = new int[w];
      double[][] v = new double[w][];
      for (int i = 0; i < w; i++) {
        Row r = rows.get(i);
        at[i] = Arrays.binarySearch(ids, (long) r.getAs("window_id"));
        v[i] =
            new double[] {
              count(r, "nz_x"),
              number(r, "min_x", Double.POSITIVE_INFINITY),
              number(r, "max_x", Double.NEGATIVE_INFINITY),
              limbs(r, "sx"),
              limbs(r, "sxx"),
              count(r, "nz_y"),
              number(r, "min_y", Double.POSITIVE_INFINITY),
              number(r, "max_y", Double.NEGATIVE_INFINITY),
              limbs(r, "sy"),
              limbs(r, "syy"),
              limbs(r, "sxy")
            };
      }
      long[][] t = tallies.computeIfAbsent(condition, k -> new long[3][samples]);
      Limbs limbs = sumR.computeIfAbsent(condition, k -> new Limbs(samples));
      double n = (double) ids.length * length;
      for (int b = 0; b < samples; b++) {
        double[] sums = new double[11];
        sums[1] = sums[6] = Double.POSITIVE_INFINITY;
        sums[2] = sums[7] = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < w; i++) {
          int times = m[b][at[i]];
          if (times == 0) {
            continue;
          }
          for (int j : SUMMED) {
            sums[j] += times * v[i][j];
          }
          sums[1] = Math.min(sums[1], v[i][1]);
          sums[2] = Math.max(sums[2], v[i][2]);
          sums[6] = Math.min(sums[6], v[i][6]);
          sums[7] = Math.max(sums[7], v[i][7]);
        }
        boolean constant =
            constant(sums[0], sums[1], sums[2], n) || constant(sums[5], sums[6], sums[7], n);
        double r = constant ? 0 : Pearson.r(n, sums[3], sums[8], sums[4], sums[9], sums[10]);
        t[0][b]++;
        t[1][b] += r > survived ? 1 : 0;
        t[2][b] += r < damaged ? 1 : 0;
        limbs.add(b, r);
      }
    }

    private static boolean constant(double nonZero, double min, double max, double n) {
      return nonZero == 0 || (nonZero == n && min == max);
    }

    private static double count(Row r, String c) {
      Object o = r.getAs(c);
      return o == null ? 0 : ((Number) o).doubleValue();
    }

    private static double number(Row r, String c, double absent) {
      Object o = r.getAs(c);
      return o == null ? absent : ((Number) o).doubleValue();
    }

    private static double limbs(Row r, String c) {
      Object a = r.getAs(c + "_a");
      if (a == null) {
        return 0;
      }
      return Limbs.value((long) a, r.getAs(c + "_b"), r.getAs(c + "_c"));
    }
  }
}
