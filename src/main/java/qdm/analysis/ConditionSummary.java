package qdm.analysis;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.percentile;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.RelationalGroupedDataset;
import org.apache.spark.sql.Row;
import qdm.tables.AnalysisSchemas;
import qdm.tables.Schemas;

/**
 * The {@code conditions} table: per condition, perplexity next to the feature survival summary
 * (docs/method.md §6-§7).
 *
 * <ul>
 *   <li>{@code ppl_chunked} = exp(sum of NLL / scored tokens) over chunk windows (token-weighted).
 *   <li>{@code ppl_chunked_batch_mean} = exp(mean over chunk windows of the window's mean NLL): the
 *       paper's exp(mean of per-batch mean losses) with one window per batch. Chunk windows all
 *       score the same number of tokens, so this also equals the paper's figure for any batch size
 *       that divides the number of windows.
 *   <li>{@code ppl_sliding} = exp(sum of NLL / scored tokens) over slide windows.
 *   <li>Δ% = 100 (ppl / reference ppl - 1).
 *   <li>Class percentages, mean r and the exact median r (average of the two middle values for an
 *       even count) over active features.
 * </ul>
 */
public final class ConditionSummary {
  private ConditionSummary() {}

  /**
   * @param featureSurvival the {@link FeatureSurvival} table
   * @param tokenNll the {@code token_nll} table (kinds chunk and slide)
   */
  public static Dataset<Row> compute(
      Dataset<Row> featureSurvival,
      Dataset<Row> tokenNll,
      java.util.Optional<Dataset<Row>> fidelity,
      AnalysisSettings s) {
    return compute(featureSurvival, tokenNll, fidelity, java.util.Optional.empty(), s);
  }

  /**
   * As above, with the stability checks' bootstrap bounds and {@code stable} per condition ({@link
   * Stability.Result#bounds}; null columns without them).
   */
  public static Dataset<Row> compute(
      Dataset<Row> featureSurvival,
      Dataset<Row> tokenNll,
      java.util.Optional<Dataset<Row>> fidelity,
      java.util.Optional<Dataset<Row>> bounds,
      AnalysisSettings s) {
    Column[] sumR = ExactSum.of(col("pearson"), "sum_r");
    Column cls = col("class");
    Dataset<Row> classes =
        featureSurvival
            .filter(col("active"))
            .groupBy("condition")
            .agg(
                count(lit(1)).as("n_active"),
                count(when(cls.equalTo(AnalysisSchemas.SURVIVED), 1)).as("n_survived"),
                count(when(cls.equalTo(AnalysisSchemas.BLURRED), 1)).as("n_blurred"),
                count(when(cls.equalTo(AnalysisSchemas.DAMAGED), 1)).as("n_damaged"),
                percentile(col("pearson"), lit(0.5)).as("median_r"),
                sumR[0],
                sumR[1],
                sumR[2])
            .withColumn("sum_r", ExactSum.value("sum_r"));
    Column rateC = col("firing_rate_c");
    Dataset<Row> featureSets =
        featureSurvival
            .groupBy("condition")
            .agg(
                count(when(rateC.gt(s.activeFiringRate()), 1)).as("n_active_c"),
                count(when(rateC.gt(s.activeFiringRate()).and(col("active").unary_$bang()), 1))
                    .as("n_new_active"),
                count(when(col("active").and(rateC.equalTo(0.0)), 1)).as("n_dead"));

    Dataset<Row> nll = Inputs.tokenNll(tokenNll);
    Dataset<Row> chunk = nll.filter(col("kind").equalTo(Schemas.CHUNK));
    Dataset<Row> behaviour = behaviour(chunk);
    Dataset<Row> windowMeans =
        meanNll(chunk.groupBy("condition", "window_id"), "nll")
            .select(col("condition"), col("mean_nll").as("window_nll"));
    Dataset<Row> perplexities =
        Conditions.table(featureSurvival.sparkSession(), s)
            .join(perplexity(chunk, "nll", "ppl_chunked"), new String[] {"condition"}, "left")
            .join(
                perplexity(windowMeans, "window_nll", "ppl_chunked_batch_mean"),
                new String[] {"condition"},
                "left")
            .join(
                perplexity(nll.filter(col("kind").equalTo(Schemas.SLIDE)), "nll", "ppl_sliding"),
                new String[] {"condition"},
                "left");
    Dataset<Row> reference =
        perplexities
            .filter(col("condition").equalTo(s.reference()))
            .select(col("ppl_chunked").as("ref_chunked"), col("ppl_sliding").as("ref_sliding"));

    Column nActive = coalesce(col("n_active"), lit(0L));
    Dataset<Row> table =
        perplexities
            .crossJoin(reference)
            .join(classes, new String[] {"condition"}, "left")
            .join(featureSets, new String[] {"condition"}, "left")
            .join(behaviour, new String[] {"condition"}, "left")
            .join(fidelity(featureSurvival, fidelity), new String[] {"condition"}, "left")
            .join(
                bounds.orElse(
                    featureSurvival
                        .sparkSession()
                        .createDataFrame(java.util.List.of(), Stability.BOUNDS)),
                new String[] {"condition"},
                "left")
            .withColumn("delta_ppl_pct", deltaPct(col("ppl_chunked"), col("ref_chunked")))
            .withColumn("delta_ppl_sliding_pct", deltaPct(col("ppl_sliding"), col("ref_sliding")))
            .withColumn("n_active", nActive)
            .withColumn("survived_pct", pct(col("n_survived"), nActive))
            .withColumn("blurred_pct", pct(col("n_blurred"), nActive))
            .withColumn("damaged_pct", pct(col("n_damaged"), nActive))
            .withColumn("mean_r", when(nActive.gt(0), col("sum_r").divide(nActive)));
    return Inputs.output(table, AnalysisSchemas.CONDITIONS, "ordinal");
  }

  /**
   * Per condition, the distribution of the per-token comparison with the reference over chunk
   * positions: KL mean / median / p99 / max, Δp mean and RMS, top-1 agreement in percent. Means are
   * exact sums; percentiles are Spark's exact {@code percentile} (linear interpolation between
   * closest ranks, numpy's default). All null for a condition without these columns.
   */
  private static Dataset<Row> behaviour(Dataset<Row> chunk) {
    Column[] kl = ExactSum.of(col("kl"), "sum_kl");
    Column[] dp = ExactSum.of(col("delta_p"), "sum_dp");
    Column[] dp2 = ExactSum.of(col("delta_p").multiply(col("delta_p")), "sum_dp2");
    Column n = count(col("kl"));
    Dataset<Row> sums =
        chunk
            .groupBy("condition")
            .agg(
                n.as("n_kl"),
                percentile(col("kl"), lit(0.5)).as("kl_median"),
                percentile(col("kl"), lit(0.99)).as("kl_p99"),
                org.apache.spark.sql.functions.max(col("kl")).as("kl_max"),
                count(when(col("top1_same"), 1)).as("n_top1"),
                kl[0],
                kl[1],
                kl[2],
                dp[0],
                dp[1],
                dp[2],
                dp2[0],
                dp2[1],
                dp2[2]);
    Column count = col("n_kl");
    return sums.select(
        col("condition"),
        when(count.gt(0), ExactSum.value("sum_kl").divide(count)).as("kl_mean"),
        when(count.gt(0), col("kl_median")).as("kl_median"),
        when(count.gt(0), col("kl_p99")).as("kl_p99"),
        col("kl_max"),
        when(count.gt(0), ExactSum.value("sum_dp").divide(count)).as("delta_p_mean"),
        when(
                count.gt(0),
                org.apache.spark.sql.functions.sqrt(ExactSum.value("sum_dp2").divide(count)))
            .as("delta_p_rms"),
        when(count.gt(0), col("n_top1").multiply(100.0).divide(count)).as("top1_same_pct"));
  }

  /** Per condition, the SAE fidelity columns (all null without a {@code sae_fidelity} table). */
  private static Dataset<Row> fidelity(
      Dataset<Row> featureSurvival, java.util.Optional<Dataset<Row>> fidelity) {
    if (fidelity.isEmpty()) {
      return featureSurvival
          .select("condition")
          .distinct()
          .select(
              col("condition"),
              lit(null).cast("double").as("sae_fvu"),
              lit(null).cast("double").as("sae_cos"),
              lit(null).cast("double").as("sae_l0"),
              lit(null).cast("double").as("ce_loss_score"));
    }
    Dataset<Row> f = fidelity.get();
    Inputs.require(
        f,
        "sae_fidelity",
        "condition",
        "sae_fvu",
        "sae_cos",
        "sae_l0",
        "ce_clean",
        "ce_sae",
        "ce_zero");
    Column zero = col("ce_zero");
    return f.select(
        col("condition"),
        col("sae_fvu"),
        col("sae_cos"),
        col("sae_l0"),
        zero.minus(col("ce_sae")).divide(zero.minus(col("ce_clean"))).as("ce_loss_score"));
  }

  /** condition, {@code name} = exp(mean of {@code value}) per condition. */
  private static Dataset<Row> perplexity(Dataset<Row> rows, String value, String name) {
    return meanNll(rows.groupBy("condition"), value)
        .select(col("condition"), exp(col("mean_nll")).as(name));
  }

  /** The grouping columns and {@code mean_nll}, an order-free mean of {@code value}. */
  private static Dataset<Row> meanNll(RelationalGroupedDataset groups, String value) {
    Column[] sum = ExactSum.of(col(value), "sum_nll");
    return groups
        .agg(count(lit(1)).as("n_nll"), sum[0], sum[1], sum[2])
        .withColumn("mean_nll", ExactSum.value("sum_nll").divide(col("n_nll")))
        .drop(ExactSum.columns("sum_nll"))
        .drop("n_nll");
  }

  private static Column deltaPct(Column ppl, Column reference) {
    return ppl.divide(reference).minus(1.0).multiply(100.0);
  }

  private static Column pct(Column count, Column total) {
    return when(total.gt(0), coalesce(count, lit(0L)).multiply(100.0).divide(total));
  }
}
