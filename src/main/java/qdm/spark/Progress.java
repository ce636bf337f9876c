package qdm.spark;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Prints a progress line for a long stage while it runs: tokens done / total, tokens per second and
 * the estimated time left. The count comes from a Spark accumulator that tasks add to as they
 * finish batches (Spark reports it when a task ends, so lines advance per task).
 */
public final class Progress implements AutoCloseable {
  private static final Logger LOG = LogManager.getLogger(Progress.class);
  private final String label;
  private final long total;
  private final LongSupplier done;
  private final long startNanos = System.nanoTime();
  private final ScheduledExecutorService timer;
  private long lastPrinted = -1;

  /** Starts reporting every {@code every}. */
  public Progress(String label, long total, LongSupplier done, Duration every) {
    this.label = label;
    this.total = total;
    this.done = done;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "qdm-progress");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleAtFixedRate(
        this::report, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The line for {@code n} of {@code total} after {@code seconds}. */
  static String line(String label, long n, long total, double seconds) {
    double rate = seconds > 0 ? n / seconds : 0;
    String eta =
        rate > 0 && n < total ? format(Duration.ofSeconds((long) ((total - n) / rate))) : "-";
    return String.format(
        Locale.ROOT,
        "%s: %,d / %,d tokens (%.1f%%), %,.0f tokens/s, ETA %s",
        label,
        n,
        total,
        total == 0 ? 100.0 : 100.0 * n / total,
        rate,
        eta);
  }

  static String format(Duration d) {
    long s = d.getSeconds();
    return s >= 3600
        ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60)
        : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
  }

  private synchronized void report() {
    long n = done.getAsLong();
    if (n != lastPrinted) {
      lastPrinted = n;
      LOG.info(line(label, n, total, (System.nanoTime() - startNanos) / 1e9));
    }
  }

  /** Stops reporting and prints the final line. */
  @Override
  public void close() {
    timer.shutdownNow();
    lastPrinted = -1;
    report();
  }
}
