package qdm.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigValueType;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import qdm.QdmException;
import qdm.hub.HubUri;

/**
 * Typed reads of a resolved configuration that record a problem (naming the key, the file and the
 * line) instead of throwing, so that every problem of a config surfaces at once. Each section
 * reader ({@code *Sections}) reads its keys through one.
 */
final class ConfigReads {
  final Config c;
  final Problems problems;

  ConfigReads(Config c, Problems problems) {
    this.c = c;
    this.problems = problems;
  }

  /** {@code key} must be one of an enum's constants, written in lower case. */
  String oneOf(String key, Enum<?>[] values) {
    return oneOf(key, names(values));
  }

  /** {@code key} must be one of {@code allowed}. */
  String oneOf(String key, List<String> allowed) {
    return oneOf(key, allowed.toArray(String[]::new));
  }

  /** The lower-case names of an enum's constants: the allowed values of its key. */
  static String[] names(Enum<?>[] values) {
    return java.util.Arrays.stream(values)
        .map(v -> v.name().toLowerCase(Locale.ROOT))
        .toArray(String[]::new);
  }

  // ---- hub locations and source hints ------------------------------------------------

  /** Checks an {@code hf://} location (other paths are checked by the preflight). */
  void hubLocation(String key, String value) {
    if (HubUri.isHub(value)) {
      try {
        HubUri.parse(value);
      } catch (QdmException e) {
        bad(key, e.getMessage());
      }
    }
  }

  /** A source hint: free text whose first word, if it starts with hf://, must parse. */
  Optional<String> source(String key) {
    Optional<String> v = optionalString(key);
    v.ifPresent(s -> hubLocation(key, firstWord(s)));
    return v;
  }

  /** Source hints of a list of paths: one for all (repeated) or one per path. */
  List<String> sourceList(String key, int paths) {
    if (c.getIsNull(key)) {
      return List.of();
    }
    List<String> v = stringList(key);
    v.forEach(s -> hubLocation(key, firstWord(s)));
    if (v.size() == 1 && paths > 1) {
      return java.util.Collections.nCopies(paths, v.get(0));
    }
    if (v.size() != paths) {
      bad(
          key,
          "must give one source for all paths or one per path (" + paths + "), got " + v.size());
      return List.of();
    }
    return v;
  }

  private static String firstWord(String s) {
    String t = s.trim();
    int space = t.indexOf(' ');
    return space < 0 ? t : t.substring(0, space);
  }

  // ---- typed reads -------------------------------------------------------------------

  void bad(String key, String message) {
    ConfigOrigin origin = c.hasPath(key) ? c.getValue(key).origin() : null;
    problems.add(origin, key, message);
  }

  String requiredString(String key) {
    if (c.getIsNull(key)) {
      bad(key, "is required");
      return null;
    }
    return string(key);
  }

  String string(String key) {
    try {
      return c.getString(key);
    } catch (ConfigException e) {
      bad(key, "must be a string");
      return null;
    }
  }

  Optional<String> optionalString(String key) {
    return c.getIsNull(key) ? Optional.empty() : Optional.ofNullable(string(key));
  }

  String oneOf(String key, String... allowed) {
    String v = requiredString(key);
    if (v == null) {
      return null;
    }
    String lower = v.toLowerCase(Locale.ROOT);
    for (String a : allowed) {
      if (a.equals(lower)) {
        return a;
      }
    }
    bad(key, "must be one of " + String.join(", ", allowed) + ", got '" + v + "'");
    return null;
  }

  boolean bool(String key) {
    try {
      return c.getBoolean(key);
    } catch (ConfigException e) {
      bad(key, "must be true or false");
      return false;
    }
  }

  long longValue(String key) {
    try {
      return c.getLong(key);
    } catch (ConfigException e) {
      bad(key, "must be an integer");
      return 0;
    }
  }

  long positiveLong(String key) {
    if (c.getIsNull(key)) {
      return 0;
    }
    long v;
    try {
      v = c.getLong(key);
    } catch (ConfigException e) {
      bad(key, "must be a positive integer");
      return 0;
    }
    if (v <= 0) {
      bad(key, "must be positive, got " + v);
    }
    return v;
  }

  int intAtLeast(String key, int min) {
    try {
      int v = c.getInt(key);
      if (v < min) {
        bad(key, "must be at least " + min + ", got " + v);
      }
      return v;
    } catch (ConfigException e) {
      bad(key, "must be an integer");
      return 0;
    }
  }

  double doubleIn(String key, double low, double high) {
    try {
      double v = c.getDouble(key);
      if (v < low || v > high) {
        bad(key, "must be in [" + low + ", " + high + "], got " + v);
      }
      return v;
    } catch (ConfigException e) {
      bad(key, "must be a number");
      return 0;
    }
  }

  List<String> stringList(String key) {
    try {
      if (c.getValue(key).valueType() == ConfigValueType.STRING) {
        return List.of(c.getString(key));
      }
      return c.getStringList(key);
    } catch (ConfigException e) {
      bad(key, "must be a list of strings");
      return List.of();
    }
  }

  OptionalInt autoInt(String key) {
    if (c.getValue(key).valueType() == ConfigValueType.STRING && "auto".equals(c.getString(key))) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(intAtLeast(key, 1));
  }

  /** {@code all} (empty) or a positive whole number. */
  OptionalLong allOrPositive(String key) {
    if (c.getValue(key).valueType() == ConfigValueType.STRING && "all".equals(c.getString(key))) {
      return OptionalLong.empty();
    }
    if (c.getValue(key).valueType() != ConfigValueType.NUMBER) {
      bad(key, "must be all or a positive number, got " + c.getValue(key).render());
      return OptionalLong.empty();
    }
    return OptionalLong.of(positiveLong(key));
  }

  OptionalLong autoBytes(String key) {
    if (c.getValue(key).valueType() == ConfigValueType.STRING && "auto".equals(c.getString(key))) {
      return OptionalLong.empty();
    }
    try {
      long v = c.getBytes(key);
      if (v <= 0) {
        bad(key, "must be auto or a positive size like 4g, got " + v);
      }
      return OptionalLong.of(v);
    } catch (ConfigException e) {
      bad(key, "must be auto or a size like 4g or 4294967296");
      return OptionalLong.empty();
    }
  }
}
