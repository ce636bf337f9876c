package qdm.spark;

/**
 * What the audit is doing right now ({@code preflight}, {@code encode/rtn4}...), for the one line
 * an interrupted run prints. Set by {@link AuditJob} as it goes from step to step.
 */
public final class CurrentStep {
  private static volatile String current = "";

  private CurrentStep() {}

  /** Records that the run is now at {@code step}. */
  public static void at(String step) {
    current = step;
  }

  /** The step the run is at; empty before the audit starts. */
  public static String current() {
    return current;
  }
}
