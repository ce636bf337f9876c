package qdm.hub;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Puts local copies in place of the {@code hf://} locations of a job's config, on the driver,
 * before anything checks or opens the files: executors then open the local path (so on a cluster
 * the cache must be on a filesystem they all mount). Plain paths pass through.
 *
 * <p>With {@code download} false (a dry run) nothing is requested: a location not yet in the cache
 * is kept as written (the preflight then notes it as not checked).
 */
public final class HubPaths {
  private final Hub hub;
  private final boolean download;
  private final Map<String, String> done = new LinkedHashMap<>();

  public HubPaths(Hub hub, boolean download) {
    this.hub = hub;
    this.download = download;
  }

  /** The local path for {@code path}, which the config has under {@code key}. */
  public String map(String key, String path) {
    if (!HubUri.isHub(path)) {
      return path;
    }
    String memo = done.get(key + "\u0000" + path);
    if (memo != null) {
      return memo;
    }
    HubUri uri = HubUri.parse(path);
    // a model directory (the reference, or a checkpoint condition's) takes the files QDM reads;
    // a path to one file (a .gguf among a repository's many quantizations) takes that file
    boolean checkpointDir =
        key.startsWith("qdm.conditions.")
            && !uri.toString().endsWith(".gguf")
            && !uri.toString().endsWith(".safetensors");
    Hub.Selection selection =
        key.equals("qdm.model.path") || checkpointDir ? Hub.Selection.MODEL : Hub.Selection.ALL;
    String local;
    if (download) {
      local = hub.fetch(uri, selection, key).toString();
    } else {
      Optional<Path> hit = hub.cached(uri, selection);
      if (hit.isPresent()) {
        local = hit.get().toString();
      } else {
        local = path;
      }
    }
    done.put(key + "\u0000" + path, local);
    return local;
  }
}
