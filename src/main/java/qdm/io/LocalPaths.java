package qdm.io;

import java.nio.file.Path;

/** Resolution of the local paths in a config (model and SAE directories). */
public final class LocalPaths {
  private LocalPaths() {}

  /**
   * A model or SAE path as every executor will open it: relative paths resolve against the driver's
   * working directory (executors on a cluster may run elsewhere), {@code file:} URIs become plain
   * paths.
   */
  public static String local(String path) {
    String p = path.startsWith("file:") ? java.net.URI.create(path).getPath() : path;
    return Path.of(p).toAbsolutePath().normalize().toString();
  }
}
