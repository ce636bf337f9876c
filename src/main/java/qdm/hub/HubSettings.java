package qdm.hub;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where downloads go and where they come from.
 *
 * <p>The cache is {@code qdm.hub.cache} when the config sets it, else {@code $QDM_HUB_CACHE}, else
 * {@code ~/.cache/qdm/hub}. The endpoint is {@code qdm.hub.endpoint}, else {@code $HF_ENDPOINT},
 * else {@code https://huggingface.co}. The token comes only from the environment ({@code HF_TOKEN};
 * never from a config file that may be shared). Offline ({@code qdm.hub.offline = true} or {@code
 * HF_HUB_OFFLINE=1}) forbids every request: only what is already cached can be used.
 *
 * @param cache cache directory (on a cluster: a filesystem every executor mounts)
 * @param endpoint hub base URL
 * @param token bearer token for gated and private repositories
 * @param offline never make a request
 */
public record HubSettings(Path cache, URI endpoint, Optional<String> token, boolean offline) {
  /** The public hub. */
  public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

  public HubSettings {
    cache = cache.toAbsolutePath().normalize();
    String e = endpoint.toString();
    if (e.endsWith("/")) {
      endpoint = URI.create(e.substring(0, e.length() - 1));
    }
    token = token.filter(t -> !t.isBlank());
  }

  /** Settings from the config's values (empty: unset) and the environment. */
  public static HubSettings of(
      Optional<String> cache, Optional<String> endpoint, boolean offline, Map<String, String> env) {
    Path dir =
        cache
            .map(Path::of)
            .or(
                () ->
                    Optional.ofNullable(env.get("QDM_HUB_CACHE"))
                        .filter(s -> !s.isBlank())
                        .map(Path::of))
            .orElseGet(() -> Path.of(System.getProperty("user.home"), ".cache", "qdm", "hub"));
    String url =
        endpoint
            .or(() -> Optional.ofNullable(env.get("HF_ENDPOINT")).filter(s -> !s.isBlank()))
            .orElse(DEFAULT_ENDPOINT);
    String off = env.getOrDefault("HF_HUB_OFFLINE", "");
    boolean envOffline =
        off.equals("1") || off.equalsIgnoreCase("true") || off.equalsIgnoreCase("yes");
    return new HubSettings(
        dir, URI.create(url), Optional.ofNullable(env.get("HF_TOKEN")), offline || envOffline);
  }

  /** Settings from the environment alone. */
  public static HubSettings fromEnvironment() {
    return of(Optional.empty(), Optional.empty(), false, System.getenv());
  }

  /** Same settings with another token (tests, tools). */
  public HubSettings withToken(Optional<String> t) {
    return new HubSettings(cache, endpoint, t, offline);
  }
}
