package qdm.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import qdm.QdmException;

/**
 * Reads an audit configuration: a HOCON file over the defaults in {@code qdm/defaults.conf}, with
 * {@code --set key=value} overrides on top, validated completely before anything runs.
 *
 * <p>Every problem found is reported at once, each naming the file and line, the key, and what was
 * expected; unknown keys are rejected (with the nearest known key as a hint), so a typo never
 * silently falls back to a default.
 */
public final class AuditConfigs {
  private static final String ROOT = "qdm";

  private AuditConfigs() {}

  /** Loads and validates {@code file} with {@code overrides} ({@code key=value}, HOCON values). */
  public static AuditConfig load(Path file, List<String> overrides) {
    if (!Files.isRegularFile(file)) {
      throw new QdmException(file + ": config file not found");
    }
    Config user;
    try {
      user =
          ConfigFactory.parseFile(
              file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException e) {
      throw new QdmException(file + ": cannot parse: " + e.getMessage());
    }
    return load(user, overrides, file.toString());
  }

  /** Loads a configuration given as HOCON text (tests, notebooks). */
  public static AuditConfig parse(String hocon, List<String> overrides, String sourceName) {
    Config user;
    try {
      user =
          ConfigFactory.parseString(
              hocon, ConfigParseOptions.defaults().setOriginDescription(sourceName));
    } catch (ConfigException e) {
      throw new QdmException(sourceName + ": cannot parse: " + e.getMessage());
    }
    return load(user, overrides, sourceName);
  }

  private static AuditConfig load(Config user, List<String> overrides, String source) {
    Config defaults = ConfigFactory.parseResources(AuditConfigs.class, "/qdm/defaults.conf");
    Config over = ConfigFactory.empty();
    for (String o : overrides) {
      over = parseOverride(o).withFallback(over);
    }
    Config layered = over.withFallback(user);
    Problems problems = new Problems(source);
    checkKeys(layered, defaults, problems);
    Config merged;
    try {
      merged = layered.withFallback(defaults).resolve();
    } catch (ConfigException e) {
      throw new QdmException(source + ": " + e.getMessage());
    }
    AuditConfig config = AuditConfigReader.read(merged, problems, source);
    problems.throwIfAny();
    return config;
  }

  /**
   * Settings that change how or where a run executes but not what it computes (a run directory that
   * was moved or copied is still the same run).
   */
  private static final Pattern NOT_OUTPUT =
      Pattern.compile(
          "qdm\\.(execution|spark|hub)\\..*|qdm\\..*\\.source|qdm\\.source|qdm\\.output"
              + "|qdm\\.run-name");

  /**
   * The settings that differ between two resolved configs (the text of {@link AuditConfig#text()}
   * or a run's {@code config.conf}) and can change a run's outputs, as {@code key: A vs B} lines;
   * execution, Spark and hub settings and source hints are left out, since a run computes the same
   * tables under any of them; so are the output location and the run's name.
   */
  public static List<String> outputDifferences(String a, String b) {
    Config ca = ConfigFactory.parseString(a);
    Config cb = ConfigFactory.parseString(b);
    java.util.TreeSet<String> keys = new java.util.TreeSet<>();
    ca.entrySet().forEach(e -> keys.add(e.getKey()));
    cb.entrySet().forEach(e -> keys.add(e.getKey()));
    List<String> out = new ArrayList<>();
    for (String k : keys) {
      if (NOT_OUTPUT.matcher(k).matches()) {
        continue;
      }
      Object va = ca.hasPathOrNull(k) && !ca.getIsNull(k) ? ca.getValue(k).unwrapped() : null;
      Object vb = cb.hasPathOrNull(k) && !cb.getIsNull(k) ? cb.getValue(k).unwrapped() : null;
      if (!java.util.Objects.equals(va, vb)) {
        out.add(k + ": " + va + " vs " + vb);
      }
    }
    return out;
  }

  /** {@code key=value} with the value in HOCON syntax; the {@code qdm.} prefix is optional. */
  static Config parseOverride(String override) {
    int eq = override.indexOf('=');
    if (eq <= 0) {
      throw new QdmException("--set " + override + ": expected key=value");
    }
    String key = override.substring(0, eq).trim();
    String value = override.substring(eq + 1).trim();
    if (!key.equals(ROOT) && !key.startsWith(ROOT + ".")) {
      key = ROOT + "." + key;
    }
    try {
      return ConfigFactory.parseString(
          key + " = " + (value.isEmpty() ? "\"\"" : value),
          ConfigParseOptions.defaults().setOriginDescription("--set " + override));
    } catch (ConfigException e) {
      // a bare string with characters HOCON does not allow unquoted
      return ConfigFactory.parseString(
          key + " = " + ConfigUtil.quoteString(value),
          ConfigParseOptions.defaults().setOriginDescription("--set " + override));
    }
  }

  private static void checkKeys(Config layered, Config defaults, Problems problems) {
    for (Map.Entry<String, ConfigValue> e : layered.entrySet()) {
      List<String> parts = ConfigUtil.splitPath(e.getKey());
      if (!parts.get(0).equals(ROOT)) {
        problems.add(
            e.getValue().origin(),
            e.getKey(),
            "unknown key: settings live under " + "'qdm { ... }'");
        continue;
      }
      if (parts.size() >= 3 && parts.get(1).equals("spark") && parts.get(2).equals("conf")) {
        continue; // free-form Spark settings
      }
      String path = ConfigUtil.joinPath(parts);
      if (!defaults.hasPathOrNull(path)) {
        problems.add(e.getValue().origin(), path, "unknown key" + hint(parts, defaults));
      }
    }
  }

  private static String hint(List<String> parts, Config defaults) {
    List<String> parent = parts.subList(0, parts.size() - 1);
    String last = parts.get(parts.size() - 1);
    String parentPath = ConfigUtil.joinPath(parent);
    if (!defaults.hasPath(parentPath)
        || defaults.getValue(parentPath).valueType() != ConfigValueType.OBJECT) {
      return "";
    }
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : defaults.getObject(parentPath).keySet()) {
      int d = editDistance(k, last);
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return best != null && bestDistance <= 3
        ? " (did you mean " + parentPath + "." + best + "?)"
        : " (known keys under "
            + parentPath
            + ": "
            + String.join(", ", defaults.getObject(parentPath).keySet())
            + ")";
  }

  static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
