package qdm.analysis;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import qdm.QdmException;

/**
 * The FP-vs-FP null run (docs/method.md §11): the reference compared with itself (or with a second
 * reference-like condition) must give r = 1 for every active feature. A failure means the pipeline
 * does not measure what it claims: duplicated codes rows, mismatched windows, a non-deterministic
 * encoder.
 */
public final class NullRun {
  /** Default tolerance on |r - 1|. */
  public static final double TOLERANCE = 1e-9;

  private NullRun() {}

  /** feature, pearson of the active features of {@code condition} with |r - 1| > tolerance. */
  public static Dataset<Row> offenders(
      Dataset<Row> featureSurvival, String condition, double tolerance) {
    return featureSurvival
        .filter(
            col("condition")
                .equalTo(condition)
                .and(col("active"))
                .and(abs(col("pearson").minus(lit(1.0))).gt(tolerance)))
        .select("feature", "pearson")
        .orderBy("feature");
  }

  /** Throws a {@link QdmException} naming the offending features, if any. */
  public static void check(Dataset<Row> featureSurvival, String condition, double tolerance) {
    Dataset<Row> bad = offenders(featureSurvival, condition, tolerance);
    long count = bad.count();
    if (count > 0) {
      List<Row> first = bad.limit(10).collectAsList();
      throw new QdmException(
          "null run failed: condition '"
              + condition
              + "' vs the reference"
              + " gives r != 1 (|r - 1| > "
              + tolerance
              + ") for "
              + count
              + " active feature(s), "
              + "first "
              + first.stream()
                  .map(r -> "feature " + r.getInt(0) + " r=" + r.getDouble(1))
                  .collect(Collectors.joining(", "))
              + "; check the codes for duplicate (window_id, position, feature) rows and that every"
              + " condition encoded the same windows");
    }
  }
}
