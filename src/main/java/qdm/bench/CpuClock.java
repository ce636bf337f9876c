package qdm.bench;

import java.lang.management.ManagementFactory;

/**
 * This process's CPU time, for benchmarks on shared machines: wall-clock figures scale with the CPU
 * a run actually got, so each benchmark also prints the cores it used on average.
 */
public final class CpuClock {
  private CpuClock() {}

  /** CPU time of this process (all threads, native ones included); 0 if the JVM cannot tell. */
  public static long processNanos() {
    return ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean sun
        ? sun.getProcessCpuTime()
        : 0;
  }

  /**
   * Average cores used since {@code cpu0} / {@code wall0} (from {@link #processNanos} and {@link
   * System#nanoTime}).
   */
  public static double coresSince(long cpu0, long wall0) {
    return (processNanos() - cpu0) / (double) (System.nanoTime() - wall0);
  }
}
