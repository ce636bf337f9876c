package qdm.hub;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import qdm.QdmException;

/**
 * Hugging Face Hub files on local disk: a download cache that is filled only when asked (an {@code
 * hf://} path in a config is the asking) and used with no request at all afterwards.
 *
 * <p>Layout under the cache directory, one folder per repository:
 *
 * <pre>
 *   models--owner--name/refs/main               the commit 'main' resolved to
 *   models--owner--name/snapshots/COMMIT/...    the files, at their paths in the repository
 *   models--owner--name/complete/COMMIT/KEY.json  which files make one hf:// path complete
 * </pre>
 *
 * A file gets its final name only after its size and checksum (SHA-256 for LFS files, the git blob
 * id otherwise) match the hub's listing; until then it is {@code NAME.part}, which a later attempt
 * continues with an HTTP range request. A checksum mismatch deletes the part file.
 */
public final class Hub {
  /** Transfer attempts per file (each continues where the previous one broke off). */
  static final int ATTEMPTS = 6;

  private static final ConcurrentHashMap<Path, Object> LOCKS = new ConcurrentHashMap<>();
  private static final Gson GSON = new Gson();

  /** Which files of a repository root to fetch when the path names no folder or file. */
  public enum Selection {
    /** Every file. */
    ALL,
    /**
     * The files of a Hugging Face model directory QDM reads: top-level {@code *.json} and {@code
     * *.safetensors}; other weight formats ({@code .bin}, {@code .gguf}, ...) are skipped.
     */
    MODEL
  }

  private final HubSettings settings;
  private final Consumer<String> log;
  private HubClient client; // made on the first request: a cached or plain run makes none

  public Hub(HubSettings settings, Consumer<String> log) {
    this.settings = settings;
    this.log = log;
  }

  private synchronized HubClient client() {
    if (client == null) {
      client = new HubClient(settings);
    }
    return client;
  }

  public HubSettings settings() {
    return settings;
  }

  /** The local copy of {@code uri} if it is completely in the cache; makes no request. */
  public Optional<Path> cached(HubUri uri, Selection selection) {
    Optional<String> commit =
        uri.pinned() ? Optional.of(uri.revision().toLowerCase(Locale.ROOT)) : readRef(uri);
    if (commit.isEmpty()) {
      return Optional.empty();
    }
    Path manifest = manifest(uri, commit.get(), selection);
    if (!Files.isRegularFile(manifest)) {
      return Optional.empty();
    }
    try {
      JsonObject m = JsonParser.parseString(Files.readString(manifest)).getAsJsonObject();
      Path snapshot = snapshot(uri, commit.get());
      for (var e : m.getAsJsonArray("files")) {
        JsonObject f = e.getAsJsonObject();
        Path p = snapshot.resolve(f.get("path").getAsString());
        long size = f.get("size").getAsLong();
        if (!Files.isRegularFile(p) || (size >= 0 && Files.size(p) != size)) {
          return Optional.empty();
        }
      }
      return Optional.of(local(uri, commit.get()));
    } catch (IOException | JsonParseException | IllegalStateException e) {
      return Optional.empty();
    }
  }

  /**
   * The local copy of {@code uri}: from the cache when complete there, else downloaded now.
   *
   * @param askedBy what asked for it, for the log (e.g. the config key)
   */
  public Path fetch(HubUri uri, Selection selection, String askedBy) {
    Optional<Path> hit = cached(uri, selection);
    if (hit.isPresent()) {
      log.accept(
          "qdm: "
              + askedBy
              + " = "
              + uri
              + ": using the cached copy "
              + hit.get()
              + " (no request made)");
      return hit.get();
    }
    HubClient.Listing listing = client().listing(uri);
    String commit = listing.commit().toLowerCase(Locale.ROOT);
    List<HubFile> files = select(uri, listing, selection);
    long bytes = files.stream().mapToLong(f -> Math.max(0, f.size())).sum();
    Path snapshot = snapshot(uri, commit);
    log.accept(
        String.format(
            Locale.ROOT,
            "qdm: %s = %s: downloading %d file(s), %.1f MB, from "
                + "%s (commit %s) into %s; the hf:// path asks for this download, a local path "
                + "avoids it",
            askedBy,
            uri,
            files.size(),
            bytes / 1e6,
            settings.endpoint(),
            commit,
            snapshot));
    for (HubFile f : files) {
      download(uri, commit, f, snapshot.resolve(f.path()));
    }
    writeManifest(uri, commit, selection, files);
    if (!uri.pinned()) {
      writeAtomically(ref(uri), commit);
    }
    return local(uri, commit);
  }

  private List<HubFile> select(HubUri uri, HubClient.Listing listing, Selection selection) {
    List<HubFile> out = new ArrayList<>();
    int skipped = 0;
    for (HubFile f : listing.files()) {
      String p = f.path();
      boolean under =
          uri.path().isEmpty() || p.equals(uri.path()) || p.startsWith(uri.path() + "/");
      if (!under) {
        continue;
      }
      if (uri.path().isEmpty()
          && selection == Selection.MODEL
          && (p.contains("/") || !(p.endsWith(".json") || p.endsWith(".safetensors")))) {
        skipped++;
        continue;
      }
      out.add(f);
    }
    if (out.isEmpty()) {
      List<String> top =
          listing.files().stream()
              .map(
                  f ->
                      f.path().contains("/")
                          ? f.path().substring(0, f.path().indexOf('/') + 1)
                          : f.path())
              .distinct()
              .limit(12)
              .toList();
      throw new QdmException(
          uri
              + ": nothing at '"
              + uri.path()
              + "' in "
              + uri.repo()
              + " at commit "
              + listing.commit()
              + " (the repository holds: "
              + String.join(", ", top)
              + (top.size() == 12 ? ", ..." : "")
              + ")");
    }
    if (skipped > 0) {
      log.accept(
          "qdm: "
              + uri
              + ": skipping "
              + skipped
              + " file(s) QDM does not read "
              + "(only the top-level *.json and *.safetensors of a model repository)");
    }
    return out;
  }

  @SuppressWarnings("try") // the file lock is held for the block, not referenced in it
  private void download(HubUri uri, String commit, HubFile f, Path target) {
    Object monitor = LOCKS.computeIfAbsent(target, k -> new Object());
    synchronized (monitor) {
      try {
        Files.createDirectories(target.getParent());
        Path lockFile = target.resolveSibling(target.getFileName() + ".lock");
        try (FileChannel ch =
                FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = ch.lock()) {
          if (Files.isRegularFile(target) && (f.size() < 0 || Files.size(target) == f.size())) {
            return; // completed and verified earlier (another run or process)
          }
          Path part = target.resolveSibling(target.getFileName() + ".part");
          transfer(uri, commit, f, part);
          verify(uri, f, part);
          move(part, target);
        } finally {
          Files.deleteIfExists(lockFile);
        }
      } catch (IOException e) {
        throw new QdmException(
            uri.withPath(f.path()) + ": cannot write " + target + ": " + e.getMessage(), e);
      }
    }
  }

  private void transfer(HubUri uri, String commit, HubFile f, Path part) throws IOException {
    IOException last = null;
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      long have = Files.exists(part) ? Files.size(part) : 0;
      if (f.size() >= 0 && have > f.size()) {
        Files.delete(part);
        have = 0;
      }
      if (f.size() >= 0 && have == f.size() && Files.exists(part)) {
        return;
      }
      if (have > 0) {
        log.accept(
            String.format(
                Locale.ROOT, "qdm: %s: resuming at byte %,d of %,d", f.path(), have, f.size()));
      }
      try {
        client().download(uri, commit, f, part, have);
        if (f.size() < 0 || Files.size(part) == f.size()) {
          return;
        }
      } catch (IOException e) {
        last = e;
        log.accept(
            "qdm: "
                + f.path()
                + ": the transfer broke off after "
                + (Files.exists(part) ? Files.size(part) : 0)
                + " bytes ("
                + e.getMessage()
                + "); continuing");
      }
    }
    throw new QdmException(
        uri.withPath(f.path())
            + ": incomplete after "
            + ATTEMPTS
            + " attempts ("
            + (Files.exists(part) ? Files.size(part) : 0)
            + " of "
            + f.size()
            + " bytes); run again to continue from "
            + part
            + (last == null ? "" : " (last error: " + last.getMessage() + ")"));
  }

  private void verify(HubUri uri, HubFile f, Path part) throws IOException {
    String expected;
    String actual;
    String kind;
    if (f.sha256().isPresent()) {
      kind = "SHA-256";
      expected = f.sha256().get().toLowerCase(Locale.ROOT);
      actual = Checksums.sha256(part);
    } else if (f.gitBlobId().isPresent()) {
      kind = "git blob id";
      expected = f.gitBlobId().get().toLowerCase(Locale.ROOT);
      actual = Checksums.gitBlobId(part);
    } else {
      log.accept("qdm: " + f.path() + ": the hub lists no checksum; only the size was checked");
      return;
    }
    if (!expected.equals(actual)) {
      Files.deleteIfExists(part);
      throw new QdmException(
          uri.withPath(f.path())
              + ": checksum mismatch: the hub lists "
              + kind
              + " "
              + expected
              + " but the download has "
              + actual
              + "; the download was "
              + "deleted (run again to retry)");
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  // ---- cache layout ------------------------------------------------------------------------

  private Path repoDir(HubUri uri) {
    return settings.cache().resolve(uri.cacheName());
  }

  private Path ref(HubUri uri) {
    return repoDir(uri).resolve("refs").resolve(uri.revision());
  }

  private Path snapshot(HubUri uri, String commit) {
    return repoDir(uri).resolve("snapshots").resolve(commit);
  }

  private Path local(HubUri uri, String commit) {
    Path s = snapshot(uri, commit);
    return uri.path().isEmpty() ? s : s.resolve(uri.path());
  }

  private Path manifest(HubUri uri, String commit, Selection selection) {
    String key =
        (uri.path().isEmpty() ? "_root" : uri.path().replace('/', '!'))
            + (uri.path().isEmpty() ? "." + selection.name().toLowerCase(Locale.ROOT) : "");
    return repoDir(uri).resolve("complete").resolve(commit).resolve(key + ".json");
  }

  private Optional<String> readRef(HubUri uri) {
    try {
      Path r = ref(uri);
      return Files.isRegularFile(r) ? Optional.of(Files.readString(r).trim()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private void writeManifest(HubUri uri, String commit, Selection selection, List<HubFile> files) {
    JsonObject m = new JsonObject();
    m.addProperty("uri", uri.toString());
    m.addProperty("commit", commit);
    JsonArray list = new JsonArray();
    for (HubFile f : files) {
      JsonObject o = new JsonObject();
      o.addProperty("path", f.path());
      o.addProperty("size", f.size());
      list.add(o);
    }
    m.add("files", list);
    writeAtomically(manifest(uri, commit, selection), GSON.toJson(m));
  }

  private static void writeAtomically(Path target, String text) {
    try {
      Files.createDirectories(target.getParent());
      Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp");
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      move(tmp, target);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
  }
}
