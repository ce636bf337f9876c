package qdm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import qdm.QdmException;
import qdm.io.ScratchSpace;
import qdm.model.TorchEngine;

/**
 * The {@code qdm} command line: {@code jobs/qdm} locally and the main class under {@code
 * spark-submit}. Bad input ({@link QdmException}) prints one message and exits with its code (2);
 * bugs print a stack trace and exit with 1.
 */
@Command(
    name = "qdm",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Audit what compression does to a language model's sparse-autoencoder features.",
    subcommands = {
      RunCommand.class,
      ForwardCommand.class,
      InspectCommand.class,
      VerifyCommand.class,
      DriftCommand.class,
      TrainSaeCommand.class,
      DemoCommand.class,
      BenchCommand.class,
      ImportCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main {

  public static void main(String[] args) {
    Interrupts.install(args);
    ScratchSpace.cleanStale();
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (testable without exiting the JVM). */
  public static int run(String... args) {
    TorchEngine.offline();
    CommandLine cli = commandLine();
    return cli.execute(args);
  }

  /** The configured picocli command line. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          QdmException q = findQdm(e);
          if (q != null) {
            cmd.getErr().println("qdm: " + q.getMessage());
            debug(e);
            return q.exitCode();
          }
          java.io.IOException io = find(e, java.io.IOException.class);
          if (io != null) {
            // the filesystem refused (disk full, permissions, a vanished mount): not a bug in QDM
            cmd.getErr()
                .println(
                    "qdm: input/output error: "
                        + io.getMessage()
                        + (System.getenv("QDM_DEBUG") == null
                            ? " (QDM_DEBUG=1 shows the stack trace)"
                            : ""));
            debug(e);
            return QdmException.BAD_INPUT;
          }
          throw e;
        });
    return cli;
  }

  /** With {@code QDM_DEBUG} set, the stack trace behind a one-line message. */
  private static void debug(Throwable e) {
    if (System.getenv("QDM_DEBUG") != null) {
      e.printStackTrace();
    }
  }

  private static <T extends Throwable> T find(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  private static QdmException findQdm(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof QdmException q) {
        return q;
      }
    }
    return null;
  }

  /** Version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"qdm " + (v == null ? "(development build)" : v)};
    }
  }
}
