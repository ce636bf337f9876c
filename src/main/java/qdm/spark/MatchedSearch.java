package qdm.spark;

import static org.apache.spark.sql.functions.col;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import qdm.condition.Condition;
import qdm.tables.Schemas;

/**
 * Matched-perplexity pruning (docs/method.md §8): bisection of the sparsity so the pruned model's
 * chunked perplexity matches a target condition's, over the first {@code max-tokens} tokens of the
 * chunk windows. Each probe is one Spark job; every probe is recorded.
 *
 * <p>Bisection: mid = (low + high) / 2; perplexity above the target means too sparse (high = mid),
 * else low = mid. The result is the probed sparsity whose perplexity is closest to the target's
 * (with [0, 0.8] and 6 steps the probes are 0.4, 0.2, 0.1, ...: the paper's 0.175 and 0.1625 are
 * among them).
 */
public final class MatchedSearch {
  private static final Logger LOG = LogManager.getLogger(MatchedSearch.class);

  /** The {@code matched_search} table: one row per probe. */
  public static final StructType SCHEMA =
      new StructType(
          new StructField[] {
            Schemas.field("condition", DataTypes.StringType),
            Schemas.field("target", DataTypes.StringType),
            Schemas.field("step", DataTypes.IntegerType),
            Schemas.field("sparsity", DataTypes.DoubleType),
            Schemas.field("ppl", DataTypes.DoubleType),
            Schemas.field("target_ppl", DataTypes.DoubleType),
            Schemas.field("tokens", DataTypes.LongType),
            Schemas.field("chosen", DataTypes.BooleanType)
          });

  /** One probe. */
  public record Probe(int step, double sparsity, double ppl) {}

  /** The outcome: every probe and the chosen sparsity. */
  public record Outcome(double targetPpl, List<Probe> probes, double chosen) {}

  private MatchedSearch() {}

  /** Bisection over {@code search} with a perplexity function (pure; testable). */
  public static Outcome bisect(
      Condition.Search search, double targetPpl, DoubleUnaryOperator pplAtSparsity) {
    double low = search.low();
    double high = search.high();
    List<Probe> probes = new ArrayList<>();
    Probe best = null;
    for (int step = 0; step < search.steps(); step++) {
      double mid = (low + high) / 2;
      double ppl = pplAtSparsity.applyAsDouble(mid);
      Probe p = new Probe(step, mid, ppl);
      probes.add(p);
      if (best == null || Math.abs(ppl - targetPpl) < Math.abs(best.ppl() - targetPpl)) {
        best = p;
      }
      if (ppl > targetPpl) {
        high = mid;
      } else {
        low = mid;
      }
    }
    return new Outcome(targetPpl, probes, best.sparsity());
  }

  /**
   * Runs the search for {@code matched} on the executors. The target's perplexity is measured the
   * same way as every probe's, on the same windows: the first {@code max-tokens} tokens of the
   * chunk windows (the encode pass that follows runs all conditions together, so the target's
   * full-run perplexity is not known yet).
   */
  public static Outcome run(
      SparkSession spark,
      EncodeStage stage,
      Condition.MatchedPruning matched,
      Condition target,
      EncodeSpec probeTemplate,
      int chunkLength,
      int perTask) {
    long windows = Math.max(1, matched.search().maxTokens() / chunkLength);
    Dataset<Row> budget = stage.windows(Schemas.CHUNK, perTask).where(col("window_id").lt(windows));
    long tokens = windows * chunkLength;
    double targetPpl =
        probe(
            spark,
            budget,
            probeTemplate.withCondition(target),
            tokens,
            matched.name() + " target " + target.name());
    LOG.info(
        String.format(
            Locale.ROOT,
            "%s: searching the sparsity matching %s (ppl %.3f) on " + "%,d tokens",
            matched.name(),
            matched.target(),
            targetPpl,
            tokens));
    return bisect(
        matched.search(),
        targetPpl,
        sparsity -> {
          double ppl =
              probe(
                  spark,
                  budget,
                  probeTemplate.withCondition(matched.at(sparsity)),
                  tokens,
                  String.format(Locale.ROOT, "%s probe sparsity %.4f", matched.name(), sparsity));
          LOG.info(
              String.format(
                  Locale.ROOT,
                  "%s: sparsity %.4f gives ppl %.3f (target %.3f)",
                  matched.name(),
                  sparsity,
                  ppl,
                  targetPpl));
          return ppl;
        });
  }

  /** The chunked perplexity of one condition over the search windows: one Spark job. */
  private static double probe(
      SparkSession spark, Dataset<Row> budget, EncodeSpec spec, long tokens, String what) {
    LongAccumulator done = spark.sparkContext().longAccumulator(what);
    try (Progress p = new Progress(what, tokens, done::value, Duration.ofSeconds(10))) {
      return perplexity(
          budget
              .mapPartitions(new EncodeFunction(spec, done), Encoders.row(EncodeFunction.SLIDE_NLL))
              .select("nll"));
    }
  }

  /** Rows of {@link #SCHEMA} for an outcome. */
  public static List<Row> rows(Condition.MatchedPruning matched, Outcome o, long tokens) {
    List<Row> rows = new ArrayList<>();
    for (Probe p : o.probes()) {
      rows.add(
          RowFactory.create(
              matched.name(),
              matched.target(),
              p.step(),
              p.sparsity(),
              p.ppl(),
              o.targetPpl(),
              tokens,
              p.sparsity() == o.chosen()));
    }
    return rows;
  }

  private static double perplexity(Dataset<Row> nll) {
    Row r = nll.selectExpr("sum(nll)", "count(nll)").first();
    if (r.getLong(1) == 0) {
      throw new IllegalStateException("no scored tokens for the perplexity");
    }
    return Math.exp(r.getDouble(0) / r.getLong(1));
  }
}
