package qdm.cli;

import qdm.io.ScratchSpace;
import qdm.spark.CurrentStep;
import sun.misc.Signal;

/**
 * Ctrl-C (SIGINT) and SIGTERM end a QDM process with one line instead of hundreds of lines of Spark
 * stack traces from the tasks being torn down: what was interrupted, and what to do. The process
 * then stops at once (exit 130 for SIGINT, 143 for SIGTERM, the shell's convention) without waiting
 * for Spark to cancel its tasks; that is safe because nothing a stage publishes is visible until it
 * is complete (scratch space, then a rename), so a re-run resumes from the last complete step. The
 * process's temporary directory goes with it ({@link ScratchSpace}).
 */
final class Interrupts {
  private Interrupts() {}

  /** Installs the handlers for the command {@code args[0]} (the JVM's main thread only). */
  static void install(String... args) {
    String command = args.length == 0 ? "" : args[0];
    for (String name : new String[] {"INT", "TERM"}) {
      try {
        Signal.handle(new Signal(name), s -> stop(command, s.getName()));
      } catch (IllegalArgumentException e) {
        // the signal is not available on this platform, or reserved by the JVM
      }
    }
  }

  private static void stop(String command, String signal) {
    String step = CurrentStep.current();
    String what = command.isEmpty() ? "qdm" : "qdm " + command;
    System.err.println();
    System.err.println(
        what
            + ": interrupted"
            + (step.isEmpty() ? "" : " during " + step)
            + (command.equals("run")
                ? "; re-run the same command to resume (complete stages are " + "kept)"
                : "; nothing was written"));
    System.err.flush();
    ScratchSpace.deleteOwn();
    Runtime.getRuntime().halt(signal.equals("INT") ? 130 : 143);
  }
}
