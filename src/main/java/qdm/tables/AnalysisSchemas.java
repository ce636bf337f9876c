package qdm.tables;

import static qdm.tables.Schemas.field;
import static qdm.tables.Schemas.nullable;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet schemas of the tables the {@code analyze} stage writes (the inputs, {@code codes} and
 * {@code token_nll}, are in {@link Schemas}). Same rules as there: snake_case, part of the public
 * interface, versioned by {@link Schemas#VERSION}.
 *
 * <p>Every percentage counts only <em>active</em> features (FP firing rate above the configured
 * threshold). Correlations are Pearson r between the reference (FP) activations and the condition's
 * activations of one feature over all encoded token positions, zeros included.
 */
public final class AnalysisSchemas {
  private AnalysisSchemas() {}

  /** Class labels of {@code feature_survival.class}. */
  public static final String SURVIVED = "survived";

  public static final String BLURRED = "blurred";
  public static final String DAMAGED = "damaged";

  /**
   * {@code feature_stats}: one row per SAE feature 0..d_sae-1 of the reference run. {@code
   * firing_rate} is the fraction of token positions with activation > 0; {@code mean_act} the mean
   * over all positions (zeros included); {@code max_act} the maximum over all positions; {@code
   * mean_when_active} the mean over firing positions (0 if none).
   */
  public static final StructType FEATURE_STATS =
      new StructType(
          new StructField[] {
            field("feature", DataTypes.IntegerType),
            field("firing_rate", DataTypes.DoubleType),
            field("mean_act", DataTypes.DoubleType),
            field("max_act", DataTypes.DoubleType),
            field("mean_when_active", DataTypes.DoubleType),
            field("active", DataTypes.BooleanType)
          });

  /**
   * {@code feature_survival}: one row per condition (the reference included: its own null run) and
   * feature. {@code damage} = 1 - pearson; {@code class} is survived / blurred / damaged by the
   * configured thresholds; {@code firing_rate} is the feature's firing rate under the condition
   * ({@code firing_rate_c} repeats it under the name the measurements use). {@code cosine} = Σxy /
   * √(Σx² Σy²) over all positions (0 when either side is all zero); {@code firing_jaccard} = #(x
   * &gt; 0 ∧ y &gt; 0) / #(x &gt; 0 ∨ y &gt; 0) (1 when neither ever fires). Inactive features are
   * kept ({@code active} = false) but counted nowhere.
   */
  public static final StructType FEATURE_SURVIVAL =
      new StructType(
          new StructField[] {
            field("condition", DataTypes.StringType),
            field("feature", DataTypes.IntegerType),
            field("active", DataTypes.BooleanType),
            field("pearson", DataTypes.DoubleType),
            field("damage", DataTypes.DoubleType),
            field("class", DataTypes.StringType),
            field("firing_rate", DataTypes.DoubleType),
            field("cosine", DataTypes.DoubleType),
            field("firing_rate_c", DataTypes.DoubleType),
            field("firing_jaccard", DataTypes.DoubleType)
          });

  /**
   * {@code conditions}: one row per condition, in configuration order. Perplexities are null when
   * the condition has no scored tokens of that kind. {@code ppl_chunked} is token-weighted; {@code
   * ppl_chunked_batch_mean} is exp of the mean of per-window mean NLLs (the paper's form with one
   * window per batch). Percentages and r statistics are over active features and null when there
   * are none. {@code source} says where the weights come from (the reference, a simulated
   * compression, or a checkpoint with its format).
   *
   * <p>Behaviour, over the scored positions of the chunk windows ({@code token_nll}): {@code
   * kl_mean}, {@code kl_median}, {@code kl_p99} (exact percentiles, linear interpolation between
   * closest ranks, as numpy's default) and {@code kl_max} of the per-token KL divergence from the
   * reference; {@code delta_p_mean} and {@code delta_p_rms} of p_c(y) − p_ref(y); {@code
   * top1_same_pct}. SAE fidelity on the condition's own activations ({@code sae_fidelity}): {@code
   * sae_fvu}, {@code sae_cos}, {@code sae_l0} and {@code ce_loss_score} = (CE_zero − CE_sae) /
   * (CE_zero − CE_clean), null where splicing is not defined. Feature sets: {@code n_active_c}
   * features whose firing rate under the condition is above the active threshold, {@code
   * n_new_active} of them not active in the reference, {@code n_dead} features active in the
   * reference that never fire under the condition.
   */
  public static final StructType CONDITIONS =
      new StructType(
          new StructField[] {
            field("condition", DataTypes.StringType),
            field("method", DataTypes.StringType),
            nullable("bits", DataTypes.IntegerType),
            nullable("sparsity", DataTypes.DoubleType),
            nullable("ppl_chunked", DataTypes.DoubleType),
            nullable("ppl_chunked_batch_mean", DataTypes.DoubleType),
            nullable("ppl_sliding", DataTypes.DoubleType),
            nullable("delta_ppl_pct", DataTypes.DoubleType),
            nullable("delta_ppl_sliding_pct", DataTypes.DoubleType),
            field("n_active", DataTypes.LongType),
            nullable("survived_pct", DataTypes.DoubleType),
            nullable("blurred_pct", DataTypes.DoubleType),
            nullable("damaged_pct", DataTypes.DoubleType),
            nullable("mean_r", DataTypes.DoubleType),
            nullable("median_r", DataTypes.DoubleType),
            nullable("source", DataTypes.StringType),
            nullable("kl_mean", DataTypes.DoubleType),
            nullable("kl_median", DataTypes.DoubleType),
            nullable("kl_p99", DataTypes.DoubleType),
            nullable("kl_max", DataTypes.DoubleType),
            nullable("delta_p_mean", DataTypes.DoubleType),
            nullable("delta_p_rms", DataTypes.DoubleType),
            nullable("top1_same_pct", DataTypes.DoubleType),
            nullable("sae_fvu", DataTypes.DoubleType),
            nullable("sae_cos", DataTypes.DoubleType),
            nullable("sae_l0", DataTypes.DoubleType),
            nullable("ce_loss_score", DataTypes.DoubleType),
            field("n_active_c", DataTypes.LongType),
            field("n_new_active", DataTypes.LongType),
            field("n_dead", DataTypes.LongType),
            nullable("survived_pct_lo", DataTypes.DoubleType),
            nullable("survived_pct_hi", DataTypes.DoubleType),
            nullable("damaged_pct_lo", DataTypes.DoubleType),
            nullable("damaged_pct_hi", DataTypes.DoubleType),
            nullable("mean_r_lo", DataTypes.DoubleType),
            nullable("mean_r_hi", DataTypes.DoubleType),
            nullable("stable", DataTypes.BooleanType)
          });

  /**
   * {@code stability}: the paper's stability checks per condition (qdm.analysis.Stability): each
   * {@code budget} (param: the fraction) and {@code subset} (param: 1..count) row is the whole
   * analysis on that window set; each {@code threshold} row (param "S/D") reclassifies the full
   * run's r. {@code windows}: the chunk windows the row used.
   */
  public static final StructType STABILITY =
      new StructType(
          new StructField[] {
            field("condition", DataTypes.StringType),
            field("check", DataTypes.StringType),
            field("param", DataTypes.StringType),
            field("windows", DataTypes.IntegerType),
            nullable("survived_pct", DataTypes.DoubleType),
            nullable("blurred_pct", DataTypes.DoubleType),
            nullable("damaged_pct", DataTypes.DoubleType),
            nullable("mean_r", DataTypes.DoubleType)
          });

  /**
   * {@code quartiles}: survival by quartile of an FP statistic (the survival predictors: rarity,
   * log_mean_act, log_max_act, log_max_over_mean) over active features. Quartile 1 holds the lowest
   * values: {@code lower <= v <= upper} for quartile 1, {@code lower < v <= upper} otherwise
   * (pandas {@code qcut}); an empty quartile (tied edges) has n = 0 and a null percentage.
   */
  public static final StructType QUARTILES =
      new StructType(
          new StructField[] {
            field("condition", DataTypes.StringType),
            field("statistic", DataTypes.StringType),
            field("quartile", DataTypes.IntegerType),
            field("lower", DataTypes.DoubleType),
            field("upper", DataTypes.DoubleType),
            field("n", DataTypes.LongType),
            field("n_survived", DataTypes.LongType),
            nullable("survived_pct", DataTypes.DoubleType)
          });

  /**
   * {@code overlap}: one row per configured condition pair, over active features. Jaccard of the
   * non-survived sets (r <= survived threshold) and of the damaged sets (r < damaged threshold),
   * 1.0 when both sets are empty; Spearman (average ranks for ties) and Pearson of the damage
   * scores, null when either side is constant.
   */
  public static final StructType OVERLAP =
      new StructType(
          new StructField[] {
            field("condition_a", DataTypes.StringType),
            field("condition_b", DataTypes.StringType),
            field("n_active", DataTypes.LongType),
            field("n_nonsurvived_a", DataTypes.LongType),
            field("n_nonsurvived_b", DataTypes.LongType),
            field("n_nonsurvived_both", DataTypes.LongType),
            field("jaccard_nonsurvived", DataTypes.DoubleType),
            field("n_damaged_a", DataTypes.LongType),
            field("n_damaged_b", DataTypes.LongType),
            field("n_damaged_both", DataTypes.LongType),
            field("jaccard_damaged", DataTypes.DoubleType),
            nullable("spearman_damage", DataTypes.DoubleType),
            nullable("pearson_damage", DataTypes.DoubleType)
          });

  /**
   * {@code predictor}: survival at the predictor condition predicted from FP statistics, one row
   * per predictor set ({@code all}, then each predictor alone). {@code auc_std} is the population
   * standard deviation over folds (numpy {@code std}); {@code fold_aucs} are the per-fold ROC-AUCs
   * in fold order. Coefficients (on standardized predictors) and the intercept come from a fit on
   * all active features; a coefficient is null when its predictor is not in the set. AUCs are null
   * when a class has fewer members than folds.
   */
  public static final StructType PREDICTOR =
      new StructType(
          new StructField[] {
            field("predictor_set", DataTypes.StringType),
            field("condition", DataTypes.StringType),
            field("n_features", DataTypes.LongType),
            field("n_survived", DataTypes.LongType),
            field("folds", DataTypes.IntegerType),
            nullable("auc_mean", DataTypes.DoubleType),
            nullable("auc_std", DataTypes.DoubleType),
            nullable("fold_aucs", DataTypes.createArrayType(DataTypes.DoubleType, false)),
            nullable("intercept", DataTypes.DoubleType),
            nullable("coef_rarity", DataTypes.DoubleType),
            nullable("coef_log_mean_act", DataTypes.DoubleType),
            nullable("coef_log_max_act", DataTypes.DoubleType),
            nullable("coef_log_max_over_mean", DataTypes.DoubleType)
          });

  /**
   * {@code predictor_roc}: the ROC curve of each predictor set over the held-out scores of all
   * folds pooled, at most 200 points from (0, 0) to (1, 1), in order of {@code point}.
   */
  public static final StructType PREDICTOR_ROC =
      new StructType(
          new StructField[] {
            field("predictor_set", DataTypes.StringType),
            field("point", DataTypes.IntegerType),
            field("fpr", DataTypes.DoubleType),
            field("tpr", DataTypes.DoubleType)
          });

  /**
   * A table as published: the analysis runs per SAE and its tables get the SAE's name as their
   * first column, {@code sae}.
   */
  public static StructType published(StructType perSae) {
    StructType t = new StructType().add(Schemas.field("sae", DataTypes.StringType));
    for (org.apache.spark.sql.types.StructField f : perSae.fields()) {
      t = t.add(f);
    }
    return t;
  }

  /** The published schema of each analysis table, by table name. */
  public static java.util.Map<String, StructType> publishedByName() {
    java.util.Map<String, StructType> m = new java.util.LinkedHashMap<>();
    m.put("feature_stats", published(FEATURE_STATS));
    m.put("feature_survival", published(FEATURE_SURVIVAL));
    m.put("conditions", published(CONDITIONS));
    m.put("quartiles", published(QUARTILES));
    m.put("overlap", published(OVERLAP));
    m.put("predictor", published(PREDICTOR));
    m.put("predictor_roc", published(PREDICTOR_ROC));
    m.put("stability", published(STABILITY));
    return m;
  }
}
