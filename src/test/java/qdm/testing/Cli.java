package qdm.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import qdm.cli.Main;

/** Runs the {@code qdm} command line in-process and captures what it prints. */
public final class Cli {
  /** Exit code, standard output and standard error of one command. */
  public record Result(int exit, String out, String err) {
    /** Both streams, for assertion messages. */
    public String all() {
      return "exit " + exit + "\n--- out\n" + out + "\n--- err\n" + err;
    }
  }

  private Cli() {}

  /** {@code qdm args...} as {@link Main#run} runs it, with System.out and System.err captured. */
  public static synchronized Result run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int code = Main.run(args);
      return new Result(
          code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }
}
