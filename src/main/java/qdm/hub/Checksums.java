package qdm.hub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The two digests the hub publishes for a file: SHA-256 (LFS files) and git's blob id. */
final class Checksums {
  private Checksums() {}

  /** Hex SHA-256 of a file's bytes. */
  static String sha256(Path file) throws IOException {
    return digest(file, "SHA-256", null);
  }

  /** Git's blob id: hex SHA-1 of {@code "blob <size>\0"} followed by the bytes. */
  static String gitBlobId(Path file) throws IOException {
    return digest(
        file, "SHA-1", ("blob " + Files.size(file) + "\0").getBytes(StandardCharsets.US_ASCII));
  }

  private static String digest(Path file, String algorithm, byte[] prefix) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    if (prefix != null) {
      md.update(prefix);
    }
    byte[] buffer = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        md.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
