package qdm.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local stand-in for the Hugging Face Hub on 127.0.0.1, with the two endpoints QDM uses: the
 * revision listing ({@code /api/models/{repo}/revision/{rev}?blobs=true}) and file downloads
 * ({@code /{repo}/resolve/{rev}/{path}}, LFS files by a redirect to {@code /cdn/{sha256}} as the
 * hub does, with {@code ETag} / {@code X-Linked-Etag} headers and {@code Range} support). Gated
 * repositories answer 401 without the right bearer token; a file can be made to break off
 * mid-transfer once, or be listed with a wrong checksum. Every request is recorded.
 */
public final class FakeHub implements AutoCloseable {
  private static final Pattern API =
      Pattern.compile("/api/(models|datasets)/([^/]+/[^/]+)/revision/([^/?]+)");
  private static final Pattern RESOLVE =
      Pattern.compile("(/datasets)?/([^/]+/[^/]+)/resolve/([^/]+)/(.+)");

  /** One repository at one commit. */
  private record Repo(String commit, Map<String, byte[]> files, Set<String> lfs) {}

  private final HttpServer server;
  private final Map<String, Repo> repos = new HashMap<>();
  private final Map<String, String> gated = new HashMap<>();
  private final Map<String, Integer> breakAfter = new HashMap<>();
  private final Set<String> wrongChecksum = new HashSet<>();
  private final Map<String, byte[]> blobs = new HashMap<>();
  private final List<String> requests = Collections.synchronizedList(new ArrayList<>());
  private String storage = "";

  public FakeHub() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/", this::handle);
    server.setExecutor(Executors.newFixedThreadPool(2));
    server.start();
  }

  /** The endpoint URL ({@code http://127.0.0.1:PORT}). */
  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /**
   * Adds a repository ({@code owner/name}, or {@code datasets/owner/name}) whose branch {@code
   * main} points at {@code commit}; files in {@code lfs} are served as LFS files.
   */
  public synchronized FakeHub repo(
      String repo, String commit, Map<String, byte[]> files, Set<String> lfs) {
    repos.put(repo, new Repo(commit, new LinkedHashMap<>(files), Set.copyOf(lfs)));
    for (String f : lfs) {
      blobs.put(sha256(files.get(f)), files.get(f));
    }
    return this;
  }

  /** Makes {@code repo} answer 401 unless the request carries {@code Bearer token}. */
  public synchronized FakeHub gate(String repo, String token) {
    gated.put(repo, token);
    return this;
  }

  /** The next full download of {@code path} (any repo) stops after {@code bytes} bytes. */
  public synchronized FakeHub breakOnce(String path, int bytes) {
    breakAfter.put(path, bytes);
    return this;
  }

  /**
   * Redirects LFS downloads to {@code baseUrl}/cdn/... (another server holding the same
   * repositories, like the hub's separate storage host) instead of this server.
   */
  public synchronized FakeHub storage(String baseUrl) {
    storage = baseUrl;
    return this;
  }

  /** Lists {@code path} with a checksum that does not match its content. */
  public synchronized FakeHub wrongChecksum(String path) {
    wrongChecksum.add(path);
    return this;
  }

  /** Requests so far, as {@code "GET /path [Range] [auth]"}. */
  public List<String> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }

  public static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Git's blob id of {@code b}, computed independently of the code under test. */
  public static String gitBlobId(byte[] b) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-1");
      md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
      return HexFormat.of().formatHex(md.digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getRawPath();
    String range = ex.getRequestHeaders().getFirst("Range");
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    requests.add(
        ex.getRequestMethod()
            + " "
            + path
            + (range == null ? "" : " " + range)
            + (auth == null ? "" : " auth"));
    try {
      Matcher api = API.matcher(path);
      Matcher res = RESOLVE.matcher(path);
      if (path.startsWith("/cdn/")) {
        byte[] b;
        synchronized (this) {
          b = blobs.get(path.substring("/cdn/".length()));
        }
        if (b == null) {
          send(ex, 404, "no such blob".getBytes(StandardCharsets.UTF_8));
        } else {
          serve(ex, path.substring(5), b, range);
        }
      } else if (api.matches()) {
        listing(
            ex,
            (api.group(1).equals("datasets") ? "datasets/" : "") + api.group(2),
            decode(api.group(3)),
            auth);
      } else if (res.matches()) {
        resolve(
            ex,
            (res.group(1) != null ? "datasets/" : "") + res.group(2),
            decode(res.group(3)),
            decode(res.group(4)),
            range,
            auth);
      } else {
        send(ex, 404, "not found".getBytes(StandardCharsets.UTF_8));
      }
    } finally {
      ex.close();
    }
  }

  private synchronized Repo find(HttpExchange ex, String repo, String rev, String auth)
      throws IOException {
    Repo r = repos.get(repo);
    if (r == null || !(rev.equals("main") || rev.equals(r.commit()))) {
      send(ex, 404, "{\"error\":\"Repository not found\"}".getBytes(StandardCharsets.UTF_8));
      return null;
    }
    String token = gated.get(repo);
    if (token != null && !("Bearer " + token).equals(auth)) {
      send(
          ex,
          401,
          "{\"error\":\"Access to this model is restricted\"}".getBytes(StandardCharsets.UTF_8));
      return null;
    }
    return r;
  }

  private void listing(HttpExchange ex, String repo, String rev, String auth) throws IOException {
    Repo r = find(ex, repo, rev, auth);
    if (r == null) {
      return;
    }
    JsonArray siblings = new JsonArray();
    for (Map.Entry<String, byte[]> f : r.files().entrySet()) {
      JsonObject s = new JsonObject();
      s.addProperty("rfilename", f.getKey());
      s.addProperty("size", f.getValue().length);
      boolean wrong;
      synchronized (this) {
        wrong = wrongChecksum.contains(f.getKey());
      }
      byte[] listed = wrong ? "something else".getBytes(StandardCharsets.UTF_8) : f.getValue();
      s.addProperty("blobId", gitBlobId(listed));
      if (r.lfs().contains(f.getKey())) {
        JsonObject lfs = new JsonObject();
        lfs.addProperty("sha256", sha256(listed));
        lfs.addProperty("size", f.getValue().length);
        lfs.addProperty("pointerSize", 134);
        s.add("lfs", lfs);
      }
      siblings.add(s);
    }
    JsonObject o = new JsonObject();
    o.addProperty("id", repo);
    o.addProperty("sha", r.commit());
    o.add("siblings", siblings);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    send(ex, 200, o.toString().getBytes(StandardCharsets.UTF_8));
  }

  private void resolve(
      HttpExchange ex, String repo, String rev, String file, String range, String auth)
      throws IOException {
    Repo r = find(ex, repo, rev, auth);
    if (r == null) {
      return;
    }
    byte[] b = r.files().get(file);
    if (b == null) {
      send(ex, 404, "{\"error\":\"Entry not found\"}".getBytes(StandardCharsets.UTF_8));
      return;
    }
    ex.getResponseHeaders().add("X-Repo-Commit", r.commit());
    if (r.lfs().contains(file)) {
      // like the hub: LFS files redirect to storage, with the content's SHA-256 as linked ETag
      ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha256(b) + "\"");
      ex.getResponseHeaders().add("X-Linked-Size", String.valueOf(b.length));
      String base;
      synchronized (this) {
        base = storage;
      }
      ex.getResponseHeaders().add("Location", base + "/cdn/" + sha256(b));
      ex.sendResponseHeaders(302, -1);
      return;
    }
    ex.getResponseHeaders().add("ETag", "\"" + gitBlobId(b) + "\"");
    serve(ex, file, b, range);
  }

  /** Sends {@code b}, or its tail for {@code Range: bytes=N-}; may break off once. */
  private void serve(HttpExchange ex, String name, byte[] b, String range) throws IOException {
    int from = 0;
    if (range != null) {
      Matcher m = Pattern.compile("bytes=(\\d+)-").matcher(range);
      if (!m.matches()) {
        send(ex, 400, new byte[0]);
        return;
      }
      from = Integer.parseInt(m.group(1));
      if (from >= b.length) {
        ex.getResponseHeaders().add("Content-Range", "bytes */" + b.length);
        ex.sendResponseHeaders(416, -1);
        return;
      }
      ex.getResponseHeaders()
          .add("Content-Range", "bytes " + from + "-" + (b.length - 1) + "/" + b.length);
    }
    Integer cut = null;
    synchronized (this) {
      for (String path : blobsByName(name).keySet()) {
        if (cut == null) {
          cut = breakAfter.remove(path);
        }
      }
      if (cut == null) {
        cut = breakAfter.remove(name);
      }
    }
    ex.sendResponseHeaders(from > 0 ? 206 : 200, b.length - from);
    OutputStream out = ex.getResponseBody();
    if (cut != null && range == null) {
      out.write(b, 0, Math.min(cut, b.length));
      out.flush();
      // drop the connection without the rest: the client sees a short body
      throw new IOException("transfer broken off on purpose");
    }
    out.write(b, from, b.length - from);
  }

  /** Repository paths whose content has the SHA-256 {@code name} (for /cdn/ requests). */
  private Map<String, byte[]> blobsByName(String name) {
    Map<String, byte[]> out = new HashMap<>();
    for (Repo r : repos.values()) {
      for (Map.Entry<String, byte[]> f : r.files().entrySet()) {
        if (r.lfs().contains(f.getKey()) && sha256(f.getValue()).equals(name)) {
          out.put(f.getKey(), f.getValue());
        }
      }
    }
    return out;
  }

  private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      ex.getResponseBody().write(body);
    }
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }
}
