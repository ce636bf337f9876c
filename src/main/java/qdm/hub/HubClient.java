package qdm.hub;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import qdm.QdmException;

/**
 * The two hub requests QDM makes: the file listing of a repository revision ({@code GET
 * /api/{models|datasets}/{repo}/revision/{rev}?blobs=true}, which also gives the commit a branch
 * points to) and a file download ({@code GET /{repo}/resolve/{commit}/{path}}, with a {@code Range}
 * header to continue a partial file). Redirects are followed by hand so the token is sent only to
 * the endpoint's own host, never to the storage it redirects to.
 */
final class HubClient {
  private static final int MAX_REDIRECTS = 5;
  private final HubSettings settings;
  private final HttpClient http;

  HubClient(HubSettings settings) {
    this.settings = settings;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(30))
            .build();
  }

  /** A revision's commit and files. */
  record Listing(String commit, List<HubFile> files) {}

  /** Lists the files of {@code uri}'s repository at its revision. */
  Listing listing(HubUri uri) {
    URI url =
        URI.create(
            settings.endpoint()
                + "/api/"
                + uri.collection()
                + "/"
                + uri.repo()
                + "/revision/"
                + encode(uri.revision())
                + "?blobs=true");
    HttpResponse<InputStream> r = send(url, Optional.empty(), uri);
    String body;
    try (InputStream in = r.body()) {
      body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new QdmException(
          uri + ": reading the file list from " + url + " failed: " + e.getMessage(), e);
    }
    try {
      JsonObject o = JsonParser.parseString(body).getAsJsonObject();
      String commit = o.get("sha").getAsString();
      List<HubFile> files = new ArrayList<>();
      JsonArray siblings = o.getAsJsonArray("siblings");
      for (JsonElement e : siblings) {
        JsonObject s = e.getAsJsonObject();
        long size = s.has("size") ? s.get("size").getAsLong() : -1;
        Optional<String> sha256 = Optional.empty();
        if (s.has("lfs") && s.get("lfs").isJsonObject()) {
          JsonObject lfs = s.getAsJsonObject("lfs");
          sha256 = Optional.ofNullable(lfs.get("sha256")).map(JsonElement::getAsString);
          if (lfs.has("size")) {
            size = lfs.get("size").getAsLong();
          }
        }
        Optional<String> blob =
            Optional.ofNullable(s.get("blobId"))
                .filter(JsonElement::isJsonPrimitive)
                .map(JsonElement::getAsString);
        files.add(
            new HubFile(
                s.get("rfilename").getAsString(),
                size,
                sha256,
                sha256.isPresent() ? Optional.empty() : blob));
      }
      return new Listing(commit, files);
    } catch (JsonParseException
        | IllegalStateException
        | NullPointerException
        | UnsupportedOperationException e) {
      throw new QdmException(
          uri
              + ": "
              + url
              + " did not answer with a repository listing "
              + "(expected JSON with 'sha' and 'siblings'): "
              + e.getMessage(),
          e);
    }
  }

  /**
   * Writes the bytes of {@code file} from offset {@code have} to the end of {@code part} (or the
   * whole file, replacing {@code part}, when the server ignores the range); throws {@link
   * IOException} when the transfer breaks off, leaving what arrived for a retry.
   */
  void download(HubUri uri, String commit, HubFile file, Path part, long have) throws IOException {
    URI url =
        URI.create(
            settings.endpoint()
                + "/"
                + (uri.dataset() ? "datasets/" : "")
                + uri.repo()
                + "/resolve/"
                + commit
                + "/"
                + encodePath(file.path()));
    HttpResponse<InputStream> r =
        send(url, have > 0 ? Optional.of(have) : Optional.empty(), uri.withPath(file.path()));
    boolean append = r.statusCode() == 206;
    if (have > 0 && !append && r.statusCode() != 200) {
      r.body().close();
      throw new IOException("unexpected status " + r.statusCode() + " for a range request");
    }
    try (InputStream in = r.body();
        OutputStream out =
            Files.newOutputStream(
                part,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
      in.transferTo(out);
    }
  }

  private HttpResponse<InputStream> send(URI url, Optional<Long> from, HubUri what) {
    if (settings.offline()) {
      throw new QdmException(
          what
              + ": needed from the hub, but hub access is off "
              + "(qdm.hub.offline or HF_HUB_OFFLINE) and the cache "
              + settings.cache()
              + " does not hold it");
    }
    URI current = url;
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(current)
              .timeout(Duration.ofMinutes(30))
              .header("User-Agent", "qdm");
      if (settings.token().isPresent() && sameHost(current, settings.endpoint())) {
        b.header("Authorization", "Bearer " + settings.token().get());
      }
      from.ifPresent(n -> b.header("Range", "bytes=" + n + "-"));
      HttpResponse<InputStream> r;
      try {
        r = http.send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
      } catch (IOException e) {
        throw new QdmException(
            what
                + ": cannot reach "
                + current
                + " ("
                + e.getMessage()
                + "); set HF_ENDPOINT or qdm.hub.endpoint for a mirror, or download the files "
                + "yourself and give a local path",
            e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new QdmException(what + ": interrupted", e);
      }
      int status = r.statusCode();
      if (status >= 300 && status < 400 && r.headers().firstValue("Location").isPresent()) {
        close(r);
        current = current.resolve(r.headers().firstValue("Location").get());
        continue;
      }
      if (status == 200 || status == 206) {
        return r;
      }
      close(r);
      throw new QdmException(what + ": " + current + " answered " + status + explain(status));
    }
    throw new QdmException(what + ": more than " + MAX_REDIRECTS + " redirects from " + url);
  }

  private static String explain(int status) {
    return switch (status) {
      case 401, 403 ->
          " (a gated or private repository: accept its terms on the hub's page "
              + "and set HF_TOKEN to an access token of that account)";
      case 404 ->
          " (no such repository, revision or file; check the owner/name, the @revision "
              + "and the path)";
      case 416 -> " (the requested range is past the end of the file)";
      case 429 -> " (rate limited; try again later or set HF_TOKEN)";
      default -> "";
    };
  }

  private static void close(HttpResponse<InputStream> r) {
    try {
      r.body().close();
    } catch (IOException ignored) {
      // the body is not needed
    }
  }

  private static boolean sameHost(URI a, URI b) {
    return a.getHost() != null
        && a.getHost().equalsIgnoreCase(b.getHost())
        && a.getPort() == b.getPort()
        && String.valueOf(a.getScheme()).equalsIgnoreCase(String.valueOf(b.getScheme()));
  }

  private static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String encodePath(String path) {
    StringBuilder s = new StringBuilder();
    for (String part : path.split("/")) {
      if (s.length() > 0) {
        s.append('/');
      }
      s.append(encode(part));
    }
    return s.toString();
  }
}
