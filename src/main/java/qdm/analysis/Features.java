package qdm.analysis;

import static org.apache.spark.sql.functions.col;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Small helper tables the analysis joins against. */
final class Features {
  private Features() {}

  /** One row per feature 0..dSae-1, column {@code feature} (int). */
  static Dataset<Row> all(SparkSession spark, int dSae) {
    return spark.range(dSae).select(col("id").cast("int").as("feature"));
  }
}
