package qdm.analysis;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * ROC-AUC by the Mann-Whitney statistic: (sum of the positives' average ranks - n1 (n1 + 1) / 2) /
 * (n1 n0), which equals the area under the ROC curve with tied scores counted one half
 * (scikit-learn's {@code roc_auc_score}). Rank sums are sums of half-integers, exact in double, so
 * the result does not depend on row order.
 */
final class Auc {
  private Auc() {}

  /**
   * @param scored rows with {@code group}, {@code label} (1.0 positive, 0.0 negative) and {@code
   *     score}
   * @return the group columns and auc (null when a class is absent from the group)
   */
  static Dataset<Row> byGroup(Dataset<Row> scored, String... group) {
    Column positive = col("label").equalTo(1.0);
    Column[] keys = java.util.Arrays.stream(group).map(g -> col(g)).toArray(Column[]::new);
    return scored
        .withColumn("rank", Ranks.average(col("score"), keys))
        .groupBy(keys)
        .agg(
            count(when(positive, 1)).as("n1"),
            count(when(functions.not(positive), 1)).as("n0"),
            sum(when(positive, col("rank")).otherwise(0.0)).as("r1"))
        .select(
            col("*"),
            when(
                    col("n1").gt(0).and(col("n0").gt(0)),
                    col("r1")
                        .minus(col("n1").multiply(col("n1").plus(1)).divide(2.0))
                        .divide(col("n1").multiply(col("n0")).cast("double")))
                .as("auc"))
        .drop("n1", "n0", "r1");
  }
}
