package qdm.config;

import com.typesafe.config.ConfigOrigin;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import qdm.QdmException;

/** Collected validation problems, reported together. */
final class Problems {
  private final String source;
  private final List<String> lines = new ArrayList<>();
  private final Set<String> keys = new HashSet<>();

  Problems(String source) {
    this.source = source;
  }

  /**
   * Records a problem with {@code key}; only the first one per key is kept, since a later one is a
   * consequence of the first (a value that did not parse fails its range check too).
   */
  void add(ConfigOrigin origin, String key, String message) {
    if (!keys.add(key)) {
      return;
    }
    String where = source;
    if (origin != null && origin.resource() != null) {
      origin = null; // a default from qdm/defaults.conf: point at the user's file instead
    }
    if (origin != null && origin.lineNumber() > 0 && origin.filename() != null) {
      where = origin.filename() + ":" + origin.lineNumber();
    } else if (origin != null
        && origin.description() != null
        && origin.description().startsWith("--set")) {
      where = origin.description().replaceFirst(": [0-9]+$", "");
    } else if (origin != null && origin.lineNumber() > 0) {
      where = source + ":" + origin.lineNumber();
    }
    lines.add(where + ": " + key + ": " + message);
  }

  void throwIfAny() {
    if (lines.size() == 1) {
      throw new QdmException(lines.get(0));
    }
    if (!lines.isEmpty()) {
      throw new QdmException(
          lines.size() + " problems in the configuration:\n  " + String.join("\n  ", lines));
    }
  }

  boolean isEmpty() {
    return lines.isEmpty();
  }
}

/** Typed reads that record a problem instead of throwing, so all problems surface at once. */
