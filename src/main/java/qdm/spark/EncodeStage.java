package qdm.spark;

import static org.apache.spark.sql.functions.col;

import java.time.Duration;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import qdm.condition.Condition;
import qdm.measure.PassAccumulator;
import qdm.measure.WindowSums;
import qdm.tables.Schemas;

/**
 * Stage 2, driver side: the one pass over the chunk windows ({@link AuditPass}: every condition on
 * each batch) and the sliding-window NLL per condition.
 *
 * <p>The pass writes per-token rows of every condition to a staging table, from which {@code codes}
 * (one row per non-zero activation) and the chunk rows of {@code token_nll} are cut; the per-task
 * statistics come back through a {@link PassAccumulator} and are published as {@code feature_sums}
 * and {@code sae_fidelity}. Every table is published by rename, whole.
 */
public final class EncodeStage {
  private final SparkSession spark;
  private final RunLayout layout;

  public EncodeStage(SparkSession spark, RunLayout layout) {
    this.spark = spark;
    this.layout = layout;
  }

  /** The windows of one kind, in tasks of {@code perTask} consecutive windows, ordered. */
  Dataset<Row> windows(String kind, int perTask) {
    Dataset<Row> w =
        spark
            .read()
            .schema(Schemas.WINDOWS)
            .parquet(layout.table("windows").toString())
            .where(col("kind").equalTo(kind));
    long n = w.count();
    int tasks = (int) Math.max(1, (n + perTask - 1) / perTask);
    return w.repartitionByRange(tasks, col("window_id")).sortWithinPartitions("window_id");
  }

  /** What the one pass over the chunk windows reports. */
  public record PassResult(long tokens, long codes, double seconds) {}

  /**
   * The one pass over the chunk windows: every condition of {@code spec} on each batch ({@link
   * AuditPass}); publishes {@code codes}, the chunk rows of {@code token_nll}, {@code feature_sums}
   * and {@code sae_fidelity}.
   */
  public PassResult runPass(PassSpec spec, int perTask) {
    long start = System.nanoTime();
    Path staging = layout.scratch("pass");
    Dataset<Row> chunks = windows(Schemas.CHUNK, perTask);
    long chunkTokens = tokens(chunks);
    LongAccumulator done = spark.sparkContext().longAccumulator("pass tokens");
    PassAccumulator sums = new PassAccumulator();
    spark.sparkContext().register(sums, "pass statistics");
    int conditions = spec.conditions().size();
    try (Progress p =
        new Progress(
            "encode (" + conditions + " conditions per batch)",
            chunkTokens,
            done::value,
            Duration.ofSeconds(10))) {
      chunks
          .mapPartitions(new AuditPass(spec, done, sums), Encoders.row(AuditPass.ROWS))
          .write()
          .mode(SaveMode.ErrorIfExists)
          .parquet(staging.toString());
    }
    Dataset<Row> rows = spark.read().schema(AuditPass.ROWS).parquet(staging.toString());
    Dataset<Row> codes =
        rows.where("position >= 0")
            .selectExpr(
                "sae",
                "condition",
                "window_id",
                "position",
                "token_id",
                "explode(arrays_zip(features, activations)) as c")
            .selectExpr(
                "sae",
                "condition",
                "window_id",
                "position",
                "token_id",
                "c.features as feature",
                "c.activations as activation");
    long codeCount = publishPartitioned(codes, "codes", "sae", "condition");
    List<String> stats = new java.util.ArrayList<>(List.of("sae", "condition", "window_id"));
    stats.add("f as feature");
    List<String> names = List.of("non_zero", "fired", "both_fired");
    for (int j = 0; j < names.size(); j++) {
      stats.add(
          "element_at(window_stats, "
              + WindowSums.LONGS
              + " * k + "
              + (j + 1)
              + ") as "
              + names.get(j));
    }
    stats.add("element_at(window_min_max, 2 * k + 1) as min");
    stats.add("element_at(window_min_max, 2 * k + 2) as max");
    List<String> sumNames = List.of("sum_y", "sum_yy", "sum_xy");
    for (int j = 0; j < sumNames.size(); j++) {
      for (int limb = 0; limb < 3; limb++) {
        stats.add(
            "element_at(window_stats, "
                + WindowSums.LONGS
                + " * k + "
                + (4 + 3 * j + limb)
                + ") as "
                + sumNames.get(j)
                + "_"
                + "abc".charAt(limb));
      }
    }
    publishPartitioned(
        rows.where("position < 0")
            .selectExpr(
                "sae",
                "condition",
                "window_id",
                "window_stats",
                "window_min_max",
                "posexplode(features) as (k, f)")
            .selectExpr(stats.toArray(new String[0])),
        "window_sums",
        "sae",
        "condition");
    publishPartitioned(
        rows.where(col("nll").isNotNull())
            .selectExpr(
                "condition",
                "'" + Schemas.CHUNK + "' as kind",
                "window_id",
                "position",
                "nll",
                "kl",
                "delta_p",
                "top1_same"),
        "token_nll",
        "condition",
        "kind");
    List<String> order = spec.conditions().stream().map(Condition::name).toList();
    List<String> saes = spec.base().saes().stream().map(EncodeSpec.SaeSpec::name).toList();
    publishRows(
        PassTables.featureSums(sums.value(), saes, order), Schemas.FEATURE_SUMS, "feature_sums");
    publishRows(
        PassTables.fidelity(sums.value(), saes, order), Schemas.SAE_FIDELITY, "sae_fidelity");
    layout.delete(staging);
    return new PassResult(chunkTokens, codeCount, (System.nanoTime() - start) / 1e9);
  }

  /**
   * The sliding-window NLL of one condition, published as {@code token_nll/condition=C/kind=slide}.
   */
  public long runSliding(EncodeSpec slideSpec, int perTask) {
    String condition = slideSpec.condition().name();
    Dataset<Row> slides = windows(Schemas.SLIDE, perTask);
    long total = tokens(slides);
    LongAccumulator slideDone = spark.sparkContext().longAccumulator("slide " + condition);
    Path scratch = layout.scratch("slide-" + condition);
    try (Progress p =
        new Progress(
            "sliding perplexity " + condition, total, slideDone::value, Duration.ofSeconds(10))) {
      slides
          .mapPartitions(
              new EncodeFunction(slideSpec, slideDone), Encoders.row(EncodeFunction.SLIDE_NLL))
          // every file of token_nll has every column: the comparison is null for slide rows
          .selectExpr(
              "window_id",
              "position",
              "nll",
              "cast(null as double) as kl",
              "cast(null as double) as delta_p",
              "cast(null as boolean) as top1_same")
          .write()
          .mode(SaveMode.ErrorIfExists)
          .parquet(scratch.toString());
    }
    long n = spark.read().schema(EncodeFunction.SLIDE_NLL).parquet(scratch.toString()).count();
    layout.commit(
        scratch,
        new Path(layout.table("token_nll"), "condition=" + condition + "/kind=" + Schemas.SLIDE));
    return n;
  }

  /** Writes {@code rows} partitioned by {@code columns} and publishes it as {@code table}. */
  private long publishPartitioned(Dataset<Row> rows, String table, String... columns) {
    Path scratch = layout.scratch(table);
    rows.write().mode(SaveMode.ErrorIfExists).partitionBy(columns).parquet(scratch.toString());
    long n = spark.read().parquet(scratch.toString()).count();
    layout.commit(scratch, layout.table(table));
    return n;
  }

  /** Writes driver-side rows as one file and publishes them as {@code table}. */
  private void publishRows(List<Row> rows, StructType schema, String table) {
    Path scratch = layout.scratch(table);
    spark
        .createDataFrame(rows, schema)
        .coalesce(1)
        .write()
        .mode(SaveMode.ErrorIfExists)
        .parquet(scratch.toString());
    layout.commit(scratch, layout.table(table));
  }

  private static long tokens(Dataset<Row> windows) {
    Row r = windows.selectExpr("coalesce(sum(size(token_ids)), 0)").first();
    return r.getLong(0);
  }
}
