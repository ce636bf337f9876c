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
   */
  public static final StructType TOKEN_NLL =
      new StructType(
          new StructField[] {
            field("condition", DataTypes.StringType),
            field("kind", DataTypes.StringType),
            field("window_id", DataTypes.LongType),
            field("position", DataTypes.IntegerType),
            field("nll", DataTypes.DoubleType)
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
