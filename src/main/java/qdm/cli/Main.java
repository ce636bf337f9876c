package qdm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import qdm.QdmException;
import qdm.model.Runtime;

/**
 * The {@code qdm} command line: {@code jobs/qdm} locally and the main class under
 * {@code spark-submit}. Bad input ({@link QdmException}) prints one message and exits with its
 * code (2); bugs print a stack trace and exit with 1.
 */
@Command(
    name = "qdm",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Audit what compression does to a language model's sparse-autoencoder features.",
    subcommands = {RunCommand.class, ForwardCommand.class, InspectCommand.class,
        VerifyCommand.class, DriftCommand.class, TrainSaeCommand.class, DemoCommand.class,
        BenchCommand.class,
        CommandLine.HelpCommand.class})
public final class Main {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (testable without exiting the JVM). */
  public static int run(String... args) {
    Runtime.offline();
    CommandLine cli = commandLine();
    return cli.execute(args);
  }

  /** The configured picocli command line. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      QdmException q = findQdm(e);
      if (q != null) {
        cmd.getErr().println("qdm: " + q.getMessage());
        return q.exitCode();
      }
      throw e;
    });
    return cli;
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
