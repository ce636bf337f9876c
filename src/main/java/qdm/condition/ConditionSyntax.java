package qdm.condition;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import qdm.compress.Compression;
import qdm.compress.Convention;
import qdm.compress.Param;

/**
 * The one grammar of conditions, in its two syntaxes, and the one naming rule.
 *
 * <p>The spec string of {@code forward --compress} and of condition sources:
 *
 * <pre>
 *   none | fp
 *   METHOD[:VALUE][:OPTION]...      e.g. rtn:4:g128:asym:targets=decoder+embed:tl
 * </pre>
 *
 * and the HOCON object of {@code conditions = [...]}: {@code { name = ..., method = rtn, bits = 4,
 * group-size = 128, asymmetric = true, targets = [embeddings], convention = tl }}, plus {@code
 * match-perplexity-of} and {@code search} (matched pruning) and {@code path} and {@code format}
 * (checkpoints). Both read the same {@link Param} declarations of the registered {@link
 * SimulatedMethods}, check values with the same rules and give the same messages.
 *
 * <p>Canonical names (a condition without {@code name}): the method and its value ({@code rtn4}; a
 * fraction as a percentage, {@code prune30}), then {@code -gN} / {@code -asym} style options,
 * {@code @decoder+embed} for other targets, and {@code -tl} / {@code -hf} when the convention is
 * not the default one ({@code compression.convention}; {@code hf} for {@code forward}); {@code fp};
 * {@code prune-matched-TARGET}; {@code checkpoint-LAST_PATH_ELEMENT}.
 */
public final class ConditionSyntax {
  /** Directory-safe names. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  private static final String MATCH = "match-perplexity-of";

  private ConditionSyntax() {}

  /** Where the HOCON reader reports a problem: a key of the condition object and a message. */
  @FunctionalInterface
  public interface Problems {
    void add(String key, String message);
  }

  // ---- the spec string --------------------------------------------------------------

  /** Every accepted spec form, for help texts and messages. */
  public static String syntaxes() {
    return String.join(", ", syntaxList());
  }

  /** Every accepted spec form: {@code none} and each registered method's syntax. */
  public static List<String> syntaxList() {
    List<String> out = new ArrayList<>(List.of("none"));
    SimulatedMethods.all().forEach(m -> out.add(m.syntax()));
    return out;
  }

  /**
   * A condition from a spec string, named canonically with {@code hf} as the default convention
   * (the reference is {@code fp}).
   */
  public static Condition parse(String spec) {
    String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
    if (s.equals("none") || s.equals("fp")) {
      return new Condition.Reference("fp");
    }
    Compression c = compression(spec);
    return new Condition.Simulated(name(c, Convention.HF), c);
  }

  /** The simulated compression of a spec string. */
  public static Compression compression(String spec) {
    return SpecSyntax.compression(spec);
  }

  /** The spec string of a compression: what {@link #compression} reads back to it. */
  public static String spec(Compression c) {
    return SpecSyntax.spec(c);
  }

  /** The canonical name of a compression, {@code defaultConvention} leaving no suffix. */
  public static String name(Compression c, Convention defaultConvention) {
    return ConditionNames.name(c, defaultConvention);
  }

  // ---- the HOCON object -------------------------------------------------------------------

  /** Every key a condition object may have. */
  public static Set<String> keys() {
    Set<String> keys = new TreeSet<>(List.of("name", "method", MATCH, "search", "path", "format"));
    SimulatedMethods.all().forEach(m -> m.params().forEach(p -> keys.add(p.key())));
    return keys;
  }

  /** The accepted {@code method} values. */
  public static List<String> methods() {
    List<String> out = new ArrayList<>(List.of("none"));
    SimulatedMethods.all().forEach(m -> out.add(m.id()));
    out.add("checkpoint");
    return out;
  }

  /**
   * Reads one condition object; every problem goes to {@code problems} (keys relative to the
   * object), and null comes back when there was one that leaves no condition.
   *
   * @param defaultConvention {@code compression.convention}
   */
  public static Condition read(Config o, Convention defaultConvention, Problems problems) {
    return HoconSyntax.read(o, defaultConvention, problems);
  }
}
