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

  /**
   * {@code qdm.sae} or {@code qdm.saes} (exactly one of them): the audit's SAEs in config order.
   * Names given are checked to be directory-safe and unique here; names defaulting to the hook are
   * checked by the preflight, once the hooks are known.
   */
  static List<AuditConfig.SaeSettings> saes(ConfigReads r) {
    boolean single = !r.c.getIsNull("qdm.sae.path");
    if (r.c.getIsNull("qdm.saes")) {
      if (!single) {
        r.bad("qdm.sae.path", "is required (or give qdm.saes, a list of SAEs)");
        return List.of();
      }
      Optional<String> name = r.optionalString("qdm.sae.name");
      name.ifPresent(n -> checkName(r, r.c.getValue("qdm.sae.name").origin(), "qdm.sae.name", n));
      return List.of(
          new AuditConfig.SaeSettings(
              name,
              r.string("qdm.sae.path"),
              r.oneOf("qdm.sae.format", SaeFormat.values()),
              r.optionalString("qdm.sae.hook"),
              "qdm.sae",
              r.source("qdm.sae.source")));
    }
    if (single) {
      r.bad("qdm.saes", "and qdm.sae.path are both set; give one SAE as sae or several as saes");
      return List.of();
    }
    com.typesafe.config.ConfigList list;
    try {
      list = r.c.getList("qdm.saes");
    } catch (com.typesafe.config.ConfigException e) {
      r.bad("qdm.saes", "must be a list of { name = ..., path = ... } objects");
      return List.of();
    }
    if (list.isEmpty()) {
      r.bad("qdm.saes", "is empty; list at least one { name = ..., path = ... } SAE");
      return List.of();
    }
    List<String> known = List.of("name", "path", "format", "hook", "source");
    List<AuditConfig.SaeSettings> out = new java.util.ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String at = "qdm.saes[" + i + "]";
      if (list.get(i).valueType() != com.typesafe.config.ConfigValueType.OBJECT) {
        r.problems.add(list.get(i).origin(), at, "must be an object { name = ..., path = ... }");
        continue;
      }
      com.typesafe.config.ConfigObject obj = (com.typesafe.config.ConfigObject) list.get(i);
      boolean ok = true;
      for (String k : obj.keySet()) {
        if (!known.contains(k)) {
          r.problems.add(
              obj.get(k).origin(),
              at + "." + k,
              "unknown key (SAE keys: " + String.join(", ", known) + ")");
          ok = false;
        }
      }
      java.util.Map<String, String> v = new java.util.HashMap<>();
      for (String k : known) {
        com.typesafe.config.ConfigValue value = obj.get(k);
        if (value == null || value.valueType() == com.typesafe.config.ConfigValueType.NULL) {
          continue;
        }
        if (value.valueType() != com.typesafe.config.ConfigValueType.STRING) {
          r.problems.add(value.origin(), at + "." + k, "must be a string");
          ok = false;
        } else {
          v.put(k, (String) value.unwrapped());
        }
      }
      if (!v.containsKey("path")) {
        r.problems.add(obj.origin(), at + ".path", "is required");
        ok = false;
      }
      String format = v.getOrDefault("format", "auto");
      List<String> formats = List.of(ConfigReads.names(SaeFormat.values()));
      if (!formats.contains(format)) {
        r.problems.add(
            obj.get("format").origin(),
            at + ".format",
            "must be one of " + String.join(", ", formats) + ", got '" + format + "'");
        ok = false;
      }
      if (v.containsKey("name")) {
        ok &= checkName(r, obj.get("name").origin(), at + ".name", v.get("name"));
        if (!names.add(v.get("name"))) {
          r.problems.add(
              obj.get("name").origin(), at + ".name", "duplicate SAE name '" + v.get("name") + "'");
          ok = false;
        }
      }
      if (v.containsKey("path")) {
        r.hubLocation(at + ".path", v.get("path"));
      }
      if (ok) {
        out.add(
            new AuditConfig.SaeSettings(
                Optional.ofNullable(v.get("name")),
                v.get("path"),
                format,
                Optional.ofNullable(v.get("hook")),
                at,
                Optional.ofNullable(v.get("source"))));
      }
    }
    return out;
  }

  /** An SAE's name becomes a directory (codes/sae=NAME): letters, digits, '.', '_', '-'. */
  private static boolean checkName(
      ConfigReads r, com.typesafe.config.ConfigOrigin origin, String key, String name) {
    if (!qdm.condition.ConditionSyntax.NAME.matcher(name).matches()) {
      r.problems.add(
          origin,
          key,
          "must be letters, digits, '.', '_' or '-' (it names a directory), got '" + name + "'");
      return false;
    }
    return true;
  }

  static AuditConfig.Sources sources(
      ConfigReads r, List<String> corpusPaths, List<String> slideSources) {
    return new AuditConfig.Sources(
        r.source("qdm.model.source"),
        r.c.getIsNull("qdm.sae.path") ? Optional.empty() : r.source("qdm.sae.source"),
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
      // (each of qdm.saes is checked where the list is read)
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
