package qdm;

/**
 * An error the user can act on: a missing file, a corrupt checkpoint, a bad config value.
 *
 * <p>The CLI prints only the message of a {@code QdmException} (no stack trace) and exits with
 * {@link #exitCode()}, so every message must name the file, tensor or key at fault and what was
 * expected. Bugs stay ordinary exceptions and keep their stack traces.
 */
public class QdmException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Exit code for bad input (files, arguments, configuration). */
  public static final int BAD_INPUT = 2;

  public QdmException(String message) {
    super(message);
  }

  public QdmException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The process exit code the CLI uses for this error. */
  public int exitCode() {
    return BAD_INPUT;
  }
}
