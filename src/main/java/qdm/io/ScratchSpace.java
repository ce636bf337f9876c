package qdm.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The process's own temporary directory. {@code jobs/qdm} starts each JVM with {@code
 * java.io.tmpdir = <TMPDIR>/qdm-<user>/<pid>}, so everything that Spark (local dirs, block manager,
 * artifacts), snappy and lz4 (their native libraries) and QDM put in the temporary directory lands
 * in one folder per process: removed when an interrupted run exits, and, for a process that was
 * killed outright, by the next QDM process ({@link #cleanStale}).
 */
public final class ScratchSpace {
  private static final Pattern PID = Pattern.compile("[0-9]+");

  private ScratchSpace() {}

  /** This process's scratch directory, when the launcher gave it one. */
  public static Optional<Path> own() {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir", "/tmp")).toAbsolutePath();
    String pid = Long.toString(ProcessHandle.current().pid());
    return tmp.getFileName() != null
            && tmp.getFileName().toString().equals(pid)
            && tmp.getParent() != null
            && tmp.getParent().getFileName().toString().startsWith("qdm-")
        ? Optional.of(tmp)
        : Optional.empty();
  }

  /**
   * Deletes the scratch directories of QDM processes that no longer run (killed with SIGKILL, or
   * lost with their machine's power); returns how many were removed.
   */
  public static int cleanStale() {
    Optional<Path> own = own();
    if (own.isEmpty()) {
      return 0;
    }
    int removed = 0;
    try (Stream<Path> siblings = Files.list(own.get().getParent())) {
      for (Path p : siblings.toList()) {
        String name = p.getFileName().toString();
        if (!p.equals(own.get())
            && PID.matcher(name).matches()
            && ProcessHandle.of(Long.parseLong(name)).isEmpty()) {
          TempDirs.deleteQuietly(p);
          removed++;
        }
      }
    } catch (IOException | RuntimeException e) {
      // leftovers are harmless; never fail a command over them
    }
    return removed;
  }

  /** Deletes this process's scratch directory (the process is about to end). */
  public static void deleteOwn() {
    own().ifPresent(TempDirs::deleteQuietly);
  }
}
