package qdm.tables;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet schemas of QDM's output tables: a public interface that notebooks, DAGs and other
 * tools read. Columns are snake_case. A change that removes or retypes a column bumps {@link
 * #VERSION}; adding a column does not.
 *
 * <p>Every table is written under {@code <output>/<run-name>/<table>/}; {@code codes} and {@code
 * token_nll} are partitioned by {@code condition} (and {@code kind}).
 */
public final class Schemas {
  /** Schema version, written into every run's manifest. */
  public static final int VERSION = 1;

  private Schemas() {}

  /** Window kinds. */
  public static final String CHUNK = "chunk";

  public static final String SLIDE = "slide";

  /**
   * {@code windows}: one row per token window. Chunk windows are non-overlapping slices of the
   * token stream (SAE codes and chunked perplexity); slide windows feed sliding-window perplexity
   * and score only positions {@code >= score_from}. {@code start} is the offset of the window's
   * first token in the stream.
   */
  public static final StructType WINDOWS =
      new StructType(
          new StructField[] {
            field("window_id", DataTypes.LongType),
            field("kind", DataTypes.StringType),
            field("start", DataTypes.LongType),
            field("token_ids", DataTypes.createArrayType(DataTypes.IntegerType, false)),
            field("score_from", DataTypes.IntegerType)
          });

  /**
   * {@code codes}: one row per non-zero SAE activation, for chunk windows only. Zero activations
   * are not stored: a (token, feature) pair absent here had activation 0. {@code position} is the
   * index in the window; {@code token_id} is the token at that position.
   */
  public static final StructType CODES =
      new StructType(
          new StructField[] {
            field("sae", DataTypes.StringType),
            field("condition", DataTypes.StringType),
            field("window_id", DataTypes.LongType),
            field("position", DataTypes.IntegerType),
            field("token_id", DataTypes.IntegerType),
            field("feature", DataTypes.IntegerType),
            field("activation", DataTypes.FloatType)
          });

  /**
   * {@code token_nll}: one row per scored token: the negative log-likelihood of the token at {@code
   * position + 1} given the window up to {@code position}. Chunk windows score positions 0..T-2;
   * slide windows score positions {@code >= score_from - 1} as described in {@code windows}.
   *
   * <p>Chunk rows also compare the condition's next-token distribution with the reference's at the
   * same position (null for slide rows): {@code kl} = Σ_v p_ref(v) (log p_ref(v) − log p_c(v)),
   * {@code delta_p} = p_c(y) − p_ref(y) for the actual next token y, {@code top1_same} = whether
   * the most likely token is the same; softmax of the final logits, natural logarithms, float64.
   */
  public static final StructType TOKEN_NLL =
      new StructType(
          new StructField[] {
            field("condition", DataTypes.StringType),
            field("kind", DataTypes.StringType),
            field("window_id", DataTypes.LongType),
            field("position", DataTypes.IntegerType),
            field("nll", DataTypes.DoubleType),
            nullable("kl", DataTypes.DoubleType),
            nullable("delta_p", DataTypes.DoubleType),
            nullable("top1_same", DataTypes.BooleanType)
          });

  /**
   * {@code feature_sums}: the sufficient statistics of every condition and SAE feature over all
   * chunk positions, summed on the executors during the encode pass: x is the reference's code, y
   * the condition's (so the reference's row has y = x). {@code positions} counts every position,
   * zeros included; {@code non_zero}, {@code fired} (y &gt; 0) and {@code both_fired} (x &gt; 0 and
   * y &gt; 0) count positions; {@code min} / {@code max} are over the non-zero y (null if none).
   * Each sum is three exact fixed-point limbs {@code NAME_a, NAME_b, NAME_c} whose value is {@code
   * a 2^12 + b 2^-24 + c 2^-60}: {@code sum_y}, {@code sum_yy}, {@code sum_xy}, {@code sum_y_pos}
   * (Σ max(y, 0)). The analysis starts from this table instead of joining {@code codes}.
   */
  public static final StructType FEATURE_SUMS = featureSums();

  /**
   * {@code window_sums}: the per-window, per-feature sufficient statistics of each SAE under each
   * condition ({@code qdm.measure.WindowSums}), one row per feature the condition's code is
   * non-zero on in the window; the stability checks sum them over window sets. Each window has
   * chunk-length positions.
   */
  public static final StructType WINDOW_SUMS = windowSums();

  /** {@code t} with the three limb columns ({@code _a, _b, _c}) of each exact sum. */
  private static StructType withLimbs(StructType t, java.util.List<String> sums) {
    for (String s : sums) {
      for (String limb : java.util.List.of("a", "b", "c")) {
        t = t.add(field(s + "_" + limb, DataTypes.LongType));
      }
    }
    return t;
  }

  private static StructType windowSums() {
    StructType t =
        new StructType()
            .add(field("sae", DataTypes.StringType))
            .add(field("condition", DataTypes.StringType))
            .add(field("window_id", DataTypes.LongType))
            .add(field("feature", DataTypes.IntegerType))
            .add(field("non_zero", DataTypes.LongType))
            .add(field("fired", DataTypes.LongType))
            .add(field("both_fired", DataTypes.LongType))
            .add(field("min", DataTypes.DoubleType))
            .add(field("max", DataTypes.DoubleType));
    return withLimbs(t, java.util.List.of("sum_y", "sum_yy", "sum_xy"));
  }

  /** {@link #FEATURE_SUMS} of one SAE, without its {@code sae} column: what the analysis reads. */
  public static final StructType FEATURE_SUMS_OF_ONE_SAE =
      new StructType(
          java.util.Arrays.stream(FEATURE_SUMS.fields())
              .filter(f -> !f.name().equals("sae"))
              .toArray(StructField[]::new));

  /** The exact-limb sums of {@link #FEATURE_SUMS}, in column order. */
  public static final java.util.List<String> FEATURE_SUM_NAMES =
      java.util.List.of("sum_y", "sum_yy", "sum_xy", "sum_y_pos");

  private static StructType featureSums() {
    StructType t =
        new StructType()
            .add(field("sae", DataTypes.StringType))
            .add(field("condition", DataTypes.StringType))
            .add(field("feature", DataTypes.IntegerType))
            .add(field("positions", DataTypes.LongType))
            .add(field("non_zero", DataTypes.LongType))
            .add(field("fired", DataTypes.LongType))
            .add(field("both_fired", DataTypes.LongType))
            .add(nullable("min", DataTypes.DoubleType))
            .add(nullable("max", DataTypes.DoubleType));
    // (FEATURE_SUM_NAMES is initialised after this runs)
    return withLimbs(t, java.util.List.of("sum_y", "sum_yy", "sum_xy", "sum_y_pos"));
  }

  /**
   * {@code sae_fidelity}: per condition, the SAE on the condition's own activations at its hook,
   * over all chunk positions: {@code sae_fvu} = Σ‖x − x̂‖² / Σ‖x − x̄‖² (x̄ the per-dimension
   * mean), {@code sae_cos} = mean cos(x, x̂), {@code sae_l0} = mean non-zero codes per position;
   * and the mean NLL of the scored positions as is ({@code ce_clean}), with x̂ spliced in at the
   * hook ({@code ce_sae}) and with zeros ({@code ce_zero}), null where splicing is not defined (an
   * SAE on one attention head) or switched off.
   */
  public static final StructType SAE_FIDELITY =
      new StructType(
          new StructField[] {
            field("sae", DataTypes.StringType),
            field("condition", DataTypes.StringType),
            field("positions", DataTypes.LongType),
            nullable("sae_fvu", DataTypes.DoubleType),
            field("sae_cos", DataTypes.DoubleType),
            field("sae_l0", DataTypes.DoubleType),
            field("ce_clean", DataTypes.DoubleType),
            nullable("ce_sae", DataTypes.DoubleType),
            nullable("ce_zero", DataTypes.DoubleType)
          });

  /** A non-nullable column. */
  public static StructField field(String name, org.apache.spark.sql.types.DataType type) {
    return new StructField(name, type, false, Metadata.empty());
  }

  /** A nullable column. */
  public static StructField nullable(String name, org.apache.spark.sql.types.DataType type) {
    return new StructField(name, type, true, Metadata.empty());
  }
}
