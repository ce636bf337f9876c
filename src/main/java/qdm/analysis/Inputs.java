package qdm.analysis;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.raise_error;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import qdm.QdmException;

/** Checks and normalizes the analysis inputs ({@code codes}, {@code token_nll}). */
final class Inputs {
  /** Starts the message of the job failure a bad codes row raises. */
  static final String BAD_ROW = "codes: ";

  /** Activations at or above this magnitude would overflow {@link ExactSum} of products. */
  static final double MAX_ACTIVATION = 0x1p24;

  private Inputs() {}

  /**
   * The codes columns the analysis reads, typed as in {@code Schemas.CODES}, with a guard that
   * fails the job (naming the row) on a feature outside [0, dSae) or a NaN or huge activation.
   */
  static Dataset<Row> codes(Dataset<Row> codes, AnalysisSettings s) {
    require(codes, "codes", "condition", "window_id", "position", "feature", "activation");
    Column feature = col("feature").cast("int");
    Column act = col("activation").cast("double");
    Column bad =
        feature.lt(0).or(feature.geq(s.dSae())).or(isnan(act)).or(abs(act).geq(MAX_ACTIVATION));
    Column message =
        concat(
            lit(
                BAD_ROW
                    + "feature must be in [0, "
                    + s.dSae()
                    + ") and |activation| finite and"
                    + " < 2^24; bad row (condition, window_id, position, feature, activation) = ("),
            concat_ws(
                ", ",
                col("condition"),
                col("window_id").cast("string"),
                col("position").cast("string"),
                feature.cast("string"),
                act.cast("string")),
            lit(")"));
    return codes
        .filter(col("condition").isin(s.conditionNames().toArray()))
        .select(
            col("condition").cast("string").as("condition"),
            col("window_id").cast("long").as("window_id"),
            col("position").cast("int").as("position"),
            feature.as("feature"),
            when(bad, raise_error(message)).otherwise(act).as("activation"));
  }

  /**
   * The user-facing error for a job failure raised by the {@link #codes} guard (Spark wraps it in
   * its own exception types), or {@code e} itself for anything else.
   */
  static RuntimeException userError(RuntimeException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      int at = m == null ? -1 : m.indexOf(BAD_ROW + "feature must be");
      if (at >= 0) {
        String text = m.substring(at);
        int end = text.indexOf(" SQLSTATE");
        return new QdmException(end < 0 ? text : text.substring(0, end), e);
      }
    }
    return e;
  }

  /**
   * The token_nll columns the analysis reads; the comparison with the reference ({@code kl}, {@code
   * delta_p}, {@code top1_same}) is null where the table lacks it (NLL from another tool).
   */
  static Dataset<Row> tokenNll(Dataset<Row> tokenNll) {
    require(tokenNll, "token_nll", "condition", "kind", "window_id", "nll");
    List<String> have = Arrays.asList(tokenNll.columns());
    return tokenNll.select(
        col("condition").cast("string").as("condition"),
        col("kind").cast("string").as("kind"),
        col("window_id").cast("long").as("window_id"),
        col("nll").cast("double").as("nll"),
        (have.contains("kl") ? col("kl") : lit(null)).cast("double").as("kl"),
        (have.contains("delta_p") ? col("delta_p") : lit(null)).cast("double").as("delta_p"),
        (have.contains("top1_same") ? col("top1_same") : lit(null))
            .cast("boolean")
            .as("top1_same"));
  }

  /** Fails with a message naming the table and the missing columns. */
  static void require(Dataset<Row> table, String name, String... columns) {
    List<String> have = Arrays.asList(table.columns());
    List<String> missing = new ArrayList<>();
    for (String c : columns) {
      if (!have.contains(c)) {
        missing.add(c);
      }
    }
    if (!missing.isEmpty()) {
      throw new QdmException(name + ": missing column(s) " + missing + "; has " + have);
    }
  }

  /**
   * An output table: one partition sorted by {@code order} (a fixed row order, one file when
   * written, one task for whatever reads it: these tables are small, one row per feature at most
   * per condition), then exactly the schema's columns.
   */
  static Dataset<Row> output(Dataset<Row> table, StructType schema, String... order) {
    return conform(
        table
            .repartition(1)
            .sortWithinPartitions(Arrays.stream(order).map(c -> col(c)).toArray(Column[]::new)),
        schema);
  }

  /** Selects exactly the schema's columns, in order, cast to its types. */
  static Dataset<Row> conform(Dataset<Row> table, StructType schema) {
    List<Column> cols = new ArrayList<>();
    for (StructField f : schema.fields()) {
      cols.add(col(f.name()).cast(f.dataType()).as(f.name()));
    }
    return table.select(cols.toArray(new Column[0]));
  }
}
