package qdm.condition;

import java.math.BigDecimal;
import qdm.compress.Compression;
import qdm.compress.Convention;
import qdm.compress.MagnitudePruning;
import qdm.compress.Param;
import qdm.compress.Settings;
import qdm.compress.Targets;

/** The one naming rule of conditions without a {@code name} (see {@link ConditionSyntax}). */
final class ConditionNames {
  private ConditionNames() {}

  /** The canonical name of a compression, {@code defaultConvention} leaving no suffix. */
  static String name(Compression c, Convention defaultConvention) {
    StringBuilder b = new StringBuilder(c.method().id());
    for (Param p : c.method().params()) {
      Object v = c.settings().get(p.key());
      if (p.form() == Param.Form.INTEGER) {
        b.append(v);
      } else if (p.form() == Param.Form.FRACTION) {
        b.append(
            BigDecimal.valueOf((Double) v).movePointRight(2).stripTrailingZeros().toPlainString());
      }
    }
    return b + options(c, defaultConvention);
  }

  /** The name suffix of a compression's options: {@code -g128-asym@decoder+embed-tl}. */
  private static String options(Compression c, Convention defaultConvention) {
    StringBuilder b = new StringBuilder();
    Settings s = c.settings();
    for (Param p : c.method().params()) {
      Object v = s.get(p.key());
      switch (p.form()) {
        case PREFIXED -> b.append(v.equals(p.absent()) ? "" : "-" + p.token() + v);
        case FLAG -> b.append((Boolean) v ? "-" + p.token() : "");
        case TARGETS ->
            b.append(v.equals(p.absent()) ? "" : "@" + Targets.describe(s.roles(p.key())));
        case CONVENTION -> b.append(v == defaultConvention ? "" : "-" + v);
        default -> {}
      }
    }
    return b.toString();
  }

  /** The canonical name of a matched pruning condition: {@code prune-matched-rtn6}. */
  static String matchedName(
      String target, MagnitudePruning template, Convention defaultConvention) {
    return "prune-matched-" + target + options(template, defaultConvention);
  }

  /** The canonical name of a checkpoint: {@code checkpoint-} and its path's last element. */
  static String checkpointName(String path) {
    String p = path.replaceAll("[/\\\\]+$", "");
    String last = p.substring(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
    last = last.replaceAll("\\.(gguf|safetensors)$", "").replaceAll("[^A-Za-z0-9._-]", "-");
    return "checkpoint-" + (last.isEmpty() ? "model" : last);
  }
}
