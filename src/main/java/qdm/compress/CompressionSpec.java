package qdm.compress;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import qdm.QdmException;
import qdm.model.TensorRole;

/**
 * Parses the compression syntax of the command line and job configs:
 * <pre>
 *   none | fp
 *   rtn:BITS[:gGROUP][:asym][:targets=LIST][:tl|:hf]
 *   prune:FRACTION[:global][:targets=LIST][:tl|:hf]
 *   nf4[:bBLOCK][:dq][:targets=LIST]
 * </pre>
 * where LIST is a '+'-separated subset of {@code decoder}, {@code embed}, {@code head} (default
 * {@code decoder}) and {@code tl} / {@code hf} the {@link Convention} (default {@code hf}). Options after the method's number may come in any order, each at most once.
 */
final class CompressionSpec {
  static final String RTN_SYNTAX =
      "rtn:BITS[:gGROUP][:asym][:targets=decoder+embed+head][:tl|:hf]";
  static final String PRUNE_SYNTAX =
      "prune:FRACTION[:global][:targets=decoder+embed+head][:tl|:hf]";
  static final String NF4_SYNTAX = "nf4[:bBLOCK][:dq][:targets=decoder+embed+head]";

  private CompressionSpec() {}

  static Compression parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new QdmException("compression spec is empty; expected none, " + RTN_SYNTAX + " or "
          + PRUNE_SYNTAX);
    }
    String s = spec.trim().toLowerCase(Locale.ROOT);
    if (s.equals("none") || s.equals("fp")) {
      return new Compression.None();
    }
    List<String> parts = List.of(s.split(":", -1));
    return switch (parts.get(0)) {
      case "rtn" -> rtn(spec, parts);
      case "prune" -> prune(spec, parts);
      case "nf4" -> nf4(spec, parts);
      default -> throw new QdmException("compression '" + spec + "': unknown method '"
          + parts.get(0) + "'; expected none, " + RTN_SYNTAX + ", " + PRUNE_SYNTAX + " or "
          + NF4_SYNTAX);
    };
  }

  private static Rtn rtn(String spec, List<String> parts) {
    if (parts.size() < 2) {
      throw new QdmException("compression '" + spec + "': bits missing; expected " + RTN_SYNTAX);
    }
    int bits;
    try {
      bits = Integer.parseInt(parts.get(1));
    } catch (NumberFormatException e) {
      throw new QdmException("compression '" + spec + "': bits '" + parts.get(1)
          + "' is not an integer; expected " + RTN_SYNTAX);
    }
    int group = 0;
    boolean asym = false;
    Convention convention = Convention.HF;
    Set<TensorRole> targets = Compression.DEFAULT_TARGETS;
    Set<String> seen = new HashSet<>();
    for (String option : parts.subList(2, parts.size())) {
      if (option.equals("tl") || option.equals("hf")) {
        once(spec, seen, "convention (tl or hf)", RTN_SYNTAX);
        convention = Convention.parse(option, spec);
      } else if (option.equals("asym")) {
        once(spec, seen, "asym", RTN_SYNTAX);
        asym = true;
      } else if (option.startsWith("targets=")) {
        once(spec, seen, "targets", RTN_SYNTAX);
        targets = Targets.parse(option.substring("targets=".length()), spec);
      } else if (option.startsWith("g")) {
        once(spec, seen, "g", RTN_SYNTAX);
        try {
          group = Integer.parseInt(option.substring(1));
        } catch (NumberFormatException e) {
          throw new QdmException("compression '" + spec + "': group size '" + option.substring(1)
              + "' is not an integer; expected " + RTN_SYNTAX);
        }
        if (group <= 0) {
          throw new QdmException("compression '" + spec + "': group size must be positive, got "
              + group + " (leave out :gGROUP for one scale per row)");
        }
      } else {
        throw unknownOption(spec, option, RTN_SYNTAX);
      }
    }
    if (convention == Convention.TL && group > 0) {
      throw new QdmException("compression '" + spec + "': :g" + group + " and :tl do not go "
          + "together: the tl convention has one scale per TransformerLens channel");
    }
    return new Rtn(bits, group, asym, targets, convention);
  }

  private static MagnitudePruning prune(String spec, List<String> parts) {
    if (parts.size() < 2) {
      throw new QdmException("compression '" + spec + "': fraction missing; expected "
          + PRUNE_SYNTAX);
    }
    double sparsity;
    try {
      sparsity = Double.parseDouble(parts.get(1));
    } catch (NumberFormatException e) {
      throw new QdmException("compression '" + spec + "': fraction '" + parts.get(1)
          + "' is not a number; expected " + PRUNE_SYNTAX + " with FRACTION in [0, 1)");
    }
    boolean global = false;
    Convention convention = Convention.HF;
    Set<TensorRole> targets = Compression.DEFAULT_TARGETS;
    Set<String> seen = new HashSet<>();
    for (String option : parts.subList(2, parts.size())) {
      if (option.equals("tl") || option.equals("hf")) {
        once(spec, seen, "convention (tl or hf)", PRUNE_SYNTAX);
        convention = Convention.parse(option, spec);
      } else if (option.equals("global")) {
        once(spec, seen, "global", PRUNE_SYNTAX);
        global = true;
      } else if (option.startsWith("targets=")) {
        once(spec, seen, "targets", PRUNE_SYNTAX);
        targets = Targets.parse(option.substring("targets=".length()), spec);
      } else {
        throw unknownOption(spec, option, PRUNE_SYNTAX);
      }
    }
    return new MagnitudePruning(sparsity, global, targets, convention);
  }

  private static Nf4 nf4(String spec, List<String> parts) {
    int block = 64;
    boolean dq = false;
    Set<TensorRole> targets = Compression.DEFAULT_TARGETS;
    Set<String> seen = new HashSet<>();
    for (String option : parts.subList(1, parts.size())) {
      if (option.equals("dq")) {
        once(spec, seen, "dq", NF4_SYNTAX);
        dq = true;
      } else if (option.startsWith("targets=")) {
        once(spec, seen, "targets", NF4_SYNTAX);
        targets = Targets.parse(option.substring("targets=".length()), spec);
      } else if (option.startsWith("b")) {
        once(spec, seen, "b", NF4_SYNTAX);
        try {
          block = Integer.parseInt(option.substring(1));
        } catch (NumberFormatException e) {
          throw new QdmException("compression '" + spec + "': blocksize '" + option.substring(1)
              + "' is not an integer; expected " + NF4_SYNTAX);
        }
      } else {
        throw unknownOption(spec, option, NF4_SYNTAX);
      }
    }
    return new Nf4(block, dq, targets);
  }

  private static void once(String spec, Set<String> seen, String option, String syntax) {
    if (!seen.add(option)) {
      throw new QdmException("compression '" + spec + "': option '" + option
          + "' given twice; expected " + syntax);
    }
  }

  private static QdmException unknownOption(String spec, String option, String syntax) {
    return new QdmException("compression '" + spec + "': unknown option '" + option
        + "'; expected " + syntax);
  }
}
