package qdm.condition;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import qdm.QdmException;
import qdm.compress.Compression;
import qdm.compress.Convention;
import qdm.compress.Method;
import qdm.compress.Param;
import qdm.compress.Settings;
import qdm.compress.Targets;
import qdm.model.TensorRole;

/** The spec string of a simulated condition ({@code rtn:4:g128:asym:tl}): parsing and rendering. */
final class SpecSyntax {
  private SpecSyntax() {}

  /** The simulated compression of a spec string. */
  static Compression compression(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new QdmException("compression spec is empty; expected " + ConditionSyntax.syntaxes());
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
                            + ConditionSyntax.syntaxes()));
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
  static Compression build(
      Method m,
      Map<String, Object> values,
      Convention defaultConvention,
      ConditionSyntax.Problems problems) {
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
  static String spec(Compression c) {
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

  /** Bisection midpoints like 0.6000000000000001 print as 0.6. */
  private static String plain(double v) {
    return BigDecimal.valueOf(v).round(new MathContext(12)).stripTrailingZeros().toPlainString();
  }
}
