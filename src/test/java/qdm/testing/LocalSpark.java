package qdm.testing;

import org.apache.spark.sql.SparkSession;

/**
 * One local SparkSession shared by all tests of the JVM: 2 threads, 1 shuffle partition, no UI, so
 * Spark tests stay fast and never bind a port other tests need.
 */
public final class LocalSpark {
  private static SparkSession session;

  private LocalSpark() {}

  /** The shared session (created on first use, stopped at JVM exit). */
  public static synchronized SparkSession get() {
    if (session == null) {
      session =
          SparkSession.builder()
              .master("local[2,2]") // one retry per task: the retry test needs it
              .appName("qdm-tests")
              .config("spark.ui.enabled", "false")
              .config("spark.sql.shuffle.partitions", "1")
              .config("spark.default.parallelism", "2")
              .config("spark.driver.host", "127.0.0.1")
              .config("spark.sql.session.timeZone", "UTC")
              .getOrCreate();
      session.sparkContext().setLogLevel("WARN");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> session.stop()));
    }
    return session;
  }
}
