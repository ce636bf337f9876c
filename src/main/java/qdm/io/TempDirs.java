package qdm.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removal of the scratch directories that commands make and clean up after themselves. */
public final class TempDirs {
  private TempDirs() {}

  /**
   * Deletes {@code dir} and everything under it, as far as possible: a leftover scratch directory
   * is harmless, so a file that cannot be deleted is left rather than failing the command that made
   * it.
   */
  public static void deleteQuietly(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | java.io.UncheckedIOException ignored) {
      // see above
    }
  }
}
