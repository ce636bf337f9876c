package qdm.spark;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import qdm.config.AuditConfig;

/**
 * The SparkSession of a run. Under {@code spark-submit} the cluster's master and settings win; run
 * directly ({@code jobs/qdm}), the config's {@code spark.master} (default {@code local[*]}) is
 * used. Settings from {@code qdm.spark.conf} are applied either way.
 */
public final class Sessions {
  private Sessions() {}

  /** Gets or creates the session for {@code config}. */
  public static SparkSession forAudit(AuditConfig config) {
    SparkConf conf = new SparkConf();
    SparkSession.Builder b = SparkSession.builder().appName("qdm " + config.runName());
    if (!conf.contains("spark.master")) {
      b.master(config.spark().master());
      // local runs: small shuffles, no UI port fights, Spark's console progress bar on
      b.config("spark.sql.shuffle.partitions", "8");
      // Spark's progress bar redraws a terminal line; in a log file it is noise
      b.config("spark.ui.showConsoleProgress", String.valueOf(System.console() != null));
      if (!conf.contains("spark.driver.host")) {
        b.config("spark.driver.host", "127.0.0.1");
      }
    }
    for (Map.Entry<String, String> e : config.spark().conf().entrySet()) {
      b.config(e.getKey(), e.getValue());
    }
    try {
      return b.getOrCreate();
    } catch (RuntimeException e) {
      throw new qdm.QdmException(
          (conf.contains("spark.master")
                  ? "spark.master = " + conf.get("spark.master")
                  : "qdm.spark.master = " + config.spark().master())
              + ": cannot start Spark: "
              + String.valueOf(e.getMessage())
                  .lines()
                  .findFirst()
                  .orElse(e.getClass().getSimpleName()),
          e);
    }
  }
}
