package qdm.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import qdm.QdmException;

/**
 * Where a run's tables live, {@code <output>/<run-name>/<table>}, on any Hadoop filesystem, and how
 * a table becomes visible: written under {@code _tmp/}, then renamed into place, so a reader never
 * sees half a table and a failed stage leaves nothing under the final name.
 */
public final class RunLayout {
  private final Path root;
  private final Configuration hadoop;

  public RunLayout(String output, String runName, Configuration hadoop) {
    this.hadoop = hadoop;
    this.root = qualify(new Path(new Path(toUri(output)), runName), hadoop);
  }

  private RunLayout(Path root, Configuration hadoop) {
    this.hadoop = hadoop;
    this.root = qualify(root, hadoop);
  }

  /** The layout of the run directory {@code root} itself. */
  public static RunLayout at(Path root, Configuration hadoop) {
    return new RunLayout(root, hadoop);
  }

  private static URI toUri(String output) {
    // a plain relative or absolute path is a local path, resolved against the working directory
    if (!output.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
      return java.nio.file.Path.of(output).toAbsolutePath().normalize().toUri();
    }
    return URI.create(output);
  }

  private static Path qualify(Path p, Configuration hadoop) {
    try {
      return p.getFileSystem(hadoop).makeQualified(p);
    } catch (IOException e) {
      throw new QdmException(p + ": cannot access the output filesystem: " + e.getMessage(), e);
    }
  }

  /** The run directory. */
  public Path root() {
    return root;
  }

  /** A table or file of the run. */
  public Path table(String name) {
    return new Path(root, name);
  }

  /** A fresh scratch location under {@code _tmp/}. */
  public Path scratch(String label) {
    return new Path(new Path(root, "_tmp"), label + "-" + UUID.randomUUID());
  }

  public FileSystem fs() {
    try {
      return root.getFileSystem(hadoop);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public boolean exists(Path p) {
    try {
      return fs().exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Replaces {@code target} with {@code written} (a complete scratch output). */
  public void commit(Path written, Path target) {
    FileSystem fs = fs();
    try {
      if (fs.exists(target)) {
        fs.delete(target, true);
      }
      fs.mkdirs(target.getParent());
      if (!fs.rename(written, target)) {
        throw new IOException("rename " + written + " -> " + target + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot publish " + target + ": " + e.getMessage(), e);
    }
  }

  /** Names of the entries of a directory, sorted; empty if it does not exist. */
  public java.util.List<String> children(Path dir) {
    try {
      if (!fs().exists(dir) || !fs().getFileStatus(dir).isDirectory()) {
        return java.util.List.of();
      }
      return java.util.Arrays.stream(fs().listStatus(dir))
          .map(s -> s.getPath().getName())
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Deletes a path if present. */
  public void delete(Path p) {
    try {
      fs().delete(p, true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes a small text file atomically (scratch file, then rename). */
  public void writeText(Path target, String text) {
    writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes a small file atomically (scratch file, then rename). */
  public void writeBytes(Path target, byte[] bytes) {
    Path tmp = scratch(target.getName());
    try (FSDataOutputStream out = fs().create(tmp, true)) {
      out.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
    commit(tmp, target);
  }

  /** Reads a small text file, if present. */
  public Optional<String> readText(Path p) {
    try {
      if (!fs().exists(p)) {
        return Optional.empty();
      }
      try (FSDataInputStream in = fs().open(p)) {
        return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
  }

  /** Removes scratch space left by this or an earlier, interrupted run. */
  public void clearScratch() {
    delete(new Path(root, "_tmp"));
  }
}
