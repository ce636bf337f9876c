package qdm.analysis;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;

import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The FP feature statistics that predict survival (docs/method.md §10), computed as the authors'
 * code does, with its clipping so that no value is infinite: rarity = -log(max(firing_rate, 1e-8)),
 * log_mean_act = log(max(mean_act, 1e-8)), log_max_act = log(max(max_act, 1e-8)) and
 * log_max_over_mean = log(max(max_act / max(mean_act, 1e-8), 1)).
 */
public final class Predictors {
  /** The predictor names, in coefficient order. */
  public static final List<String> NAMES =
      List.of("rarity", "log_mean_act", "log_max_act", "log_max_over_mean");

  private static final double FLOOR = 1e-8;

  private Predictors() {}

  /** feature, label-free predictors of the active features of {@code featureStats}. */
  public static Dataset<Row> ofActive(Dataset<Row> featureStats) {
    Column mean = greatest(col("mean_act"), lit(FLOOR));
    return featureStats
        .filter(col("active"))
        .select(
            col("feature"),
            log(greatest(col("firing_rate"), lit(FLOOR))).multiply(-1.0).as("rarity"),
            log(mean).as("log_mean_act"),
            log(greatest(col("max_act"), lit(FLOOR))).as("log_max_act"),
            log(greatest(col("max_act").divide(mean), lit(1.0))).as("log_max_over_mean"));
  }
}
