package qdm.config;

import java.util.List;
import java.util.Optional;
import qdm.compress.Convention;
import qdm.model.Placement;
import qdm.model.Processing;
import qdm.sae.SaeFormat;

/**
 * Where things are: the {@code model}, {@code sae}, {@code compression} and {@code hub} sections
 * and the {@code source} hints. Allowed values come from the types that read them.
 */
final class LocationSections {
  private LocationSections() {}

  static AuditConfig.ModelSettings model(ConfigReads r) {
    return new AuditConfig.ModelSettings(
        r.requiredString("qdm.model.path"),
        r.optionalString("qdm.model.weights"),
        r.oneOf("qdm.model.dtype", Placement.DTYPES),
        r.oneOf("qdm.model.processing", Processing.values()));
  }

  /** {@code compression.convention}: the conditions' convention unless they say. */
  static Convention convention(ConfigReads r) {
    String convention = r.oneOf("qdm.compression.convention", Convention.values());
    return convention == null
        ? Convention.HF
        : Convention.parse(convention, "qdm.compression.convention");
  }

  static AuditConfig.SaeSettings sae(ConfigReads r) {
    return new AuditConfig.SaeSettings(
        r.requiredString("qdm.sae.path"),
        r.oneOf("qdm.sae.format", SaeFormat.values()),
        r.optionalString("qdm.sae.hook"));
  }

  static AuditConfig.Sources sources(
      ConfigReads r, List<String> corpusPaths, List<String> slideSources) {
    return new AuditConfig.Sources(
        r.source("qdm.model.source"),
        r.source("qdm.sae.source"),
        r.sourceList("qdm.corpus.source", corpusPaths.size()),
        slideSources);
  }

  /** {@code hub}, and every {@code hf://} location of the config checked to parse. */
  static AuditConfig.HubConfig hub(
      ConfigReads r, List<String> corpusPaths, Optional<AuditConfig.SlidingCorpus> slide) {
    Optional<String> endpoint = r.optionalString("qdm.hub.endpoint");
    if (endpoint.isPresent() && !endpoint.get().matches("(?i)https?://[^\\s/]+(/\\S*)?")) {
      r.bad("qdm.hub.endpoint", "must be an http:// or https:// URL, got '" + endpoint.get() + "'");
    }
    var hub =
        new AuditConfig.HubConfig(
            r.optionalString("qdm.hub.cache"), endpoint, r.bool("qdm.hub.offline"));
    for (String key : List.of("qdm.model.path", "qdm.model.weights", "qdm.sae.path")) {
      if (!r.c.getIsNull(key)) {
        r.hubLocation(key, r.c.getString(key));
      }
    }
    corpusPaths.forEach(p -> r.hubLocation("qdm.corpus.paths", p));
    slide.ifPresent(
        sc -> sc.paths().forEach(p -> r.hubLocation("qdm.windows.sliding.corpus.paths", p)));
    return hub;
  }
}
