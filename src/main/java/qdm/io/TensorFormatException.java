package qdm.io;

import java.nio.file.Path;
import qdm.QdmException;

/** A checkpoint file that cannot be read as it claims to be; names the file and the tensor. */
public class TensorFormatException extends QdmException {
  private static final long serialVersionUID = 1L;

  public TensorFormatException(Path file, String message) {
    super(file + ": " + message);
  }

  public TensorFormatException(Path file, String tensor, String message) {
    super(file + ": tensor '" + tensor + "' " + message);
  }

  public TensorFormatException(Path file, String message, Throwable cause) {
    super(file + ": " + message, cause);
  }
}
