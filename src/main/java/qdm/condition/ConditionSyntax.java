package qdm.condition;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import qdm.QdmException;
import qdm.compress.Compression;
import qdm.compress.Convention;
import qdm.compress.MagnitudePruning;
import qdm.compress.Method;
import qdm.compress.Param;
import qdm.compress.Settings;
import qdm.compress.Targets;
import qdm.hub.HubUri;
import qdm.io.quant.WeightFormat;
import qdm.model.TensorRole;

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

  private static final Set<String> SEARCH_KEYS = Set.of("low", "high", "steps", "max-tokens");
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
    if (spec == null || spec.isBlank()) {
      throw new QdmException("compression spec is empty; expected " + syntaxes());
    }
    String s = spec.trim().toLowerCase(Locale.ROOT);
    List<String> parts = List.of(s.split(":", -1));
    Method m =
        SimulatedMethods.get(parts.get(0))
            .orElseThrow(
                () ->
                    new QdmException(
                        "compression '"
                            + spec
                            + "': unknown method '"
                            + parts.get(0)
                            + "'; expected "
                            + syntaxes()));
    Map<String, Object> values = new LinkedHashMap<>();
    Set<String> seen = new HashSet<>();
    int next = 1;
    for (Param p : m.params()) {
      if (!p.required()) {
        continue;
      }
      if (next >= parts.size()) {
        throw new QdmException(
            "compression '" + spec + "': " + p.label() + " missing; " + "expected " + m.syntax());
      }
      values.put(p.key(), number(spec, m, p, parts.get(next++)));
    }
    for (String option : parts.subList(next, parts.size())) {
      Param p =
          option(m, option)
              .orElseThrow(
                  () ->
                      new QdmException(
                          "compression '"
                              + spec
                              + "': unknown option '"
                              + option
                              + "'; expected "
                              + m.syntax()));
      String what =
          switch (p.form()) {
            case CONVENTION -> "convention (tl or hf)";
            case TARGETS -> "targets";
            default -> p.token();
          };
      if (!seen.add(p.key())) {
        throw new QdmException(
            "compression '"
                + spec
                + "': option '"
                + what
                + "' given twice; "
                + "expected "
                + m.syntax());
      }
      values.put(
          p.key(),
          switch (p.form()) {
            case FLAG -> true;
            case CONVENTION -> Convention.parse(option, "compression '" + spec + "'");
            case TARGETS -> specTargets(spec, option.substring("targets=".length()));
            default -> number(spec, m, p, option.substring(p.token().length()));
          });
    }
    return build(
        m,
        values,
        Convention.HF,
        (key, message) -> {
          throw new QdmException(
              m.id() + " " + m.param(key).map(Param::label).orElse(key) + " " + message);
        });
  }

  /** The parameter an option word sets: a flag, a convention, targets or a prefixed number. */
  private static java.util.Optional<Param> option(Method m, String option) {
    for (Param p : m.params()) {
      boolean match =
          switch (p.form()) {
            case FLAG -> option.equals(p.token());
            case CONVENTION -> option.equals("tl") || option.equals("hf");
            case TARGETS -> option.startsWith("targets=");
            default -> false;
          };
      if (match) {
        return java.util.Optional.of(p);
      }
    }
    return m.params().stream()
        .filter(
            p ->
                p.form() == Param.Form.PREFIXED
                    && option.startsWith(p.token())
                    && option.length() > p.token().length())
        .findFirst();
  }

  private static Object number(String spec, Method m, Param p, String text) {
    try {
      return p.form() == Param.Form.FRACTION
          ? (Object) Double.parseDouble(text)
          : (Object) Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new QdmException(
          "compression '"
              + spec
              + "': "
              + p.label()
              + " '"
              + text
              + "' is "
              + (p.form() == Param.Form.FRACTION ? "not a number" : "not an integer")
              + "; expected "
              + m.syntax());
    }
  }

  private static Set<TensorRole> specTargets(String spec, String list) {
    Set<TensorRole> roles = EnumSet.noneOf(TensorRole.class);
    for (String word : list.split("\\+", -1)) {
      TensorRole r = Targets.role(word);
      if (r == null) {
        throw new QdmException(
            "compression '"
                + spec
                + "': unknown target '"
                + word
                + "'; expected a '+'-separated list of "
                + String.join(", ", Targets.words(Targets.ALLOWED)));
      }
      roles.add(r);
    }
    return roles;
  }

  /**
   * Fills absent parameters, checks each value and builds the compression; problems go to {@code
   * problems} (which may throw), and null comes back when there were any.
   */
  private static Compression build(
      Method m, Map<String, Object> values, Convention defaultConvention, Problems problems) {
    Map<String, Object> all = new LinkedHashMap<>();
    boolean ok = true;
    for (Param p : m.params()) {
      Object v =
          values.containsKey(p.key())
              ? values.get(p.key())
              : p.form() == Param.Form.CONVENTION ? defaultConvention : p.absent();
      if (v == null) {
        problems.add(p.key(), "is required for method = " + m.id() + " (" + m.syntax() + ")");
        ok = false;
        continue;
      }
      String bad = values.containsKey(p.key()) ? p.check().apply(v) : null;
      if (bad != null) {
        problems.add(p.key(), bad);
        ok = false;
      }
      all.put(p.key(), v);
    }
    if (!ok) {
      return null;
    }
    try {
      return m.create().apply(new Settings(all));
    } catch (Param.Invalid e) {
      problems.add(e.key(), e.getMessage());
      return null;
    }
  }

  /** The spec string of a compression: what {@link #compression} reads back to it. */
  public static String spec(Compression c) {
    StringBuilder b = new StringBuilder(c.method().id());
    Settings s = c.settings();
    for (Param p : c.method().params()) {
      Object v = s.get(p.key());
      switch (p.form()) {
        case INTEGER -> b.append(':').append(v);
        case FRACTION -> b.append(':').append(plain((Double) v));
        case PREFIXED -> b.append(v.equals(p.absent()) ? "" : ":" + p.token() + v);
        case FLAG -> b.append((Boolean) v ? ":" + p.token() : "");
        case TARGETS ->
            b.append(v.equals(p.absent()) ? "" : ":targets=" + Targets.describe(s.roles(p.key())));
        case CONVENTION -> b.append(v == Convention.TL ? ":tl" : "");
      }
    }
    return b.toString();
  }

  // ---- names ------------------------------------------------------------------------------

  /** The canonical name of a compression, {@code defaultConvention} leaving no suffix. */
  public static String name(Compression c, Convention defaultConvention) {
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

  /** Bisection midpoints like 0.6000000000000001 print as 0.6. */
  private static String plain(double v) {
    return BigDecimal.valueOf(v).round(new MathContext(12)).stripTrailingZeros().toPlainString();
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
    Reader r = new Reader(o, problems);
    String name = r.string("name");
    if (name != null && !NAME.matcher(name).matches()) {
      problems.add(
          "name",
          "must be letters, digits, '.', '_' or '-' (it names a directory), "
              + "got '"
              + name
              + "'");
    }
    String method = r.string("method");
    if (method == null) {
      problems.add("method", "is required (" + String.join(", ", methods()) + ")");
      return null;
    }
    Set<String> allowed = new HashSet<>(List.of("name", "method"));
    Condition c;
    if (method.equals("none")) {
      r.forbidAllBut("none", allowed);
      c = new Condition.Reference(name != null ? name : "fp");
    } else if (method.equals("checkpoint")) {
      allowed.addAll(List.of("path", "format"));
      r.forbidAllBut("checkpoint", allowed);
      c = checkpoint(r, name, problems);
    } else {
      java.util.Optional<Method> m = SimulatedMethods.get(method);
      if (m.isEmpty()) {
        problems.add(
            "method", "must be " + String.join(", ", methods()) + ", got '" + method + "'");
        return null;
      }
      m.get().params().forEach(p -> allowed.add(p.key()));
      boolean matched = o.hasPath(MATCH);
      if (matched || m.get().id().equals("prune")) {
        allowed.addAll(List.of(MATCH, "search"));
      }
      r.forbidAllBut(method, allowed);
      c = simulated(r, m.get(), name, defaultConvention, problems);
    }
    return c;
  }

  private static Condition simulated(
      Reader r, Method m, String name, Convention defaultConvention, Problems problems) {
    Map<String, Object> values = new LinkedHashMap<>();
    boolean matched = r.o.hasPath(MATCH);
    for (Param p : m.params()) {
      if (!r.o.hasPath(p.key())) {
        continue;
      }
      Object v = r.value(p);
      if (v == null) {
        return null;
      }
      values.put(p.key(), v);
    }
    if (m.id().equals("prune")) {
      if (matched == values.containsKey("sparsity")) {
        problems.add(
            "sparsity", "give exactly one of sparsity or " + MATCH + " for method = prune");
        return null;
      }
      if (!matched && r.o.hasPath("search")) {
        problems.add("search", "only applies with " + MATCH);
      }
    }
    if (matched) {
      values.put("sparsity", 0.0);
    }
    Compression c = build(m, values, defaultConvention, problems);
    if (c == null) {
      return null;
    }
    if (matched) {
      String target = r.string(MATCH);
      Condition.Search search = search(r, problems);
      MagnitudePruning template = (MagnitudePruning) c;
      return new Condition.MatchedPruning(
          name != null ? name : matchedName(target, template, defaultConvention),
          target,
          search,
          template);
    }
    return new Condition.Simulated(name != null ? name : name(c, defaultConvention), c);
  }

  private static Condition checkpoint(Reader r, String name, Problems problems) {
    String path = r.string("path");
    if (path == null || path.isBlank()) {
      problems.add(
          "path",
          "is required for method = checkpoint (a model directory, a .gguf "
              + "or .safetensors file, or hf://owner/name@revision[/file])");
      return null;
    }
    path = path.trim();
    if (HubUri.isHub(path)) {
      try {
        HubUri.parse(path);
      } catch (QdmException e) {
        problems.add("path", e.getMessage());
      }
    }
    String format = Condition.Checkpoint.AUTO;
    String given = r.string("format");
    if (given != null) {
      try {
        format = WeightFormat.parse(given, "format").id();
      } catch (QdmException e) {
        problems.add("format", "must be one of " + WeightFormat.ids() + ", got '" + given + "'");
      }
    }
    return new Condition.Checkpoint(name != null ? name : checkpointName(path), path, format);
  }

  private static Condition.Search search(Reader r, Problems problems) {
    Condition.Search d = Condition.Search.DEFAULT;
    double low = d.low();
    double high = d.high();
    int steps = d.steps();
    long tokens = d.maxTokens();
    if (r.o.hasPath("search")) {
      Config s;
      try {
        s = r.o.getConfig("search");
        for (String k : s.root().keySet()) {
          if (!SEARCH_KEYS.contains(k)) {
            problems.add(
                "search." + k, "unknown key (search keys: low, high, steps, " + "max-tokens)");
          }
        }
        low = s.hasPath("low") ? s.getDouble("low") : low;
        high = s.hasPath("high") ? s.getDouble("high") : high;
        steps = s.hasPath("steps") ? s.getInt("steps") : steps;
        tokens = s.hasPath("max-tokens") ? s.getLong("max-tokens") : tokens;
      } catch (ConfigException e) {
        problems.add(
            "search",
            "must be { low = ..., high = ..., steps = ..., max-tokens = ... }"
                + " with numbers: "
                + e.getMessage().replaceFirst("^.*?: ", ""));
        return d;
      }
    }
    if (!(low >= 0 && low < high && high < 1)) {
      problems.add("search", "needs 0 <= low < high < 1, got low " + low + ", high " + high);
    }
    if (steps < 1 || steps > 30) {
      problems.add("search.steps", "must be in 1..30, got " + steps);
    }
    if (tokens <= 0) {
      problems.add("search.max-tokens", "must be positive, got " + tokens);
    }
    return new Condition.Search(low, high, steps, tokens);
  }

  /** Typed reads of one condition object that report instead of throwing. */
  private static final class Reader {
    final Config o;
    final Problems problems;

    Reader(Config o, Problems problems) {
      this.o = o;
      this.problems = problems;
    }

    String string(String key) {
      if (!o.hasPath(key)) {
        return null;
      }
      try {
        return o.getString(key);
      } catch (ConfigException e) {
        problems.add(key, "must be a string");
        return null;
      }
    }

    void forbidAllBut(String method, Set<String> allowed) {
      Set<String> known = keys();
      for (String k : new TreeSet<>(o.root().keySet())) {
        if (known.contains(k) && !allowed.contains(k)) {
          problems.add(k, "does not apply to method = " + method);
        }
      }
    }

    /** A parameter's value in its HOCON type; null (reported) when of the wrong type. */
    Object value(Param p) {
      String k = p.key();
      try {
        return switch (p.form()) {
          case INTEGER, PREFIXED -> o.getInt(k);
          case FRACTION -> o.getDouble(k);
          case FLAG -> o.getBoolean(k);
          case CONVENTION -> {
            String v = o.getString(k).trim().toLowerCase(Locale.ROOT);
            if (!v.equals("hf") && !v.equals("tl")) {
              problems.add(
                  k,
                  "must be hf (the checkpoint's tensors) or tl (the paper's "
                      + "TransformerLens parameters), got '"
                      + o.getString(k)
                      + "'");
              yield null;
            }
            yield Convention.parse(v, k);
          }
          case TARGETS -> {
            // the decoder's linear weights are always compressed; the list adds to them
            Set<TensorRole> roles = EnumSet.of(TensorRole.DECODER_LINEAR);
            for (String t : o.getStringList(k)) {
              TensorRole role = Targets.role(t);
              if (role == null) {
                problems.add(
                    k,
                    "may list embeddings, lm-head (decoder linear weights are "
                        + "always compressed), got '"
                        + t
                        + "'");
                yield null;
              }
              roles.add(role);
            }
            yield roles;
          }
        };
      } catch (ConfigException e) {
        problems.add(
            k,
            switch (p.form()) {
              case INTEGER, PREFIXED -> "must be an integer";
              case FRACTION -> "must be a number";
              case FLAG -> "must be true or false";
              case CONVENTION -> "must be hf or tl";
              case TARGETS -> "must be a list such as [embeddings, lm-head]";
            });
        return null;
      }
    }
  }
}
