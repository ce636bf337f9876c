package qdm.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import qdm.compress.Convention;
import qdm.condition.Condition;
import qdm.condition.ConditionSyntax;

/**
 * The {@code conditions} and {@code analysis} sections: the conditions through the one condition
 * grammar ({@link ConditionSyntax}), then what must hold between them (one reference, unique names,
 * matched targets that exist) and the analysis settings that name them.
 */
final class ConditionSections {
  private ConditionSections() {}

  /** {@code qdm.conditions}: every condition, read by the condition grammar. */
  static List<Condition> conditions(ConfigReads r, Convention defaultConvention) {
    String key = "qdm.conditions";
    List<Condition> out = new ArrayList<>();
    ConfigList list;
    try {
      list = r.c.getList(key);
    } catch (ConfigException e) {
      r.bad(key, "must be a list of { name = ..., method = ... } objects");
      return out;
    }
    Set<String> names = new HashSet<>();
    Set<String> known = ConditionSyntax.keys();
    for (int i = 0; i < list.size(); i++) {
      String at = key + "[" + i + "]";
      if (list.get(i).valueType() != ConfigValueType.OBJECT) {
        r.problems.add(list.get(i).origin(), at, "must be an object { name = ..., method = ... }");
        continue;
      }
      ConfigObject obj = (ConfigObject) list.get(i);
      for (String k : obj.keySet()) {
        if (!known.contains(k)) {
          r.problems.add(
              obj.get(k).origin(),
              at + "." + k,
              "unknown key (condition keys: " + String.join(", ", known) + ")");
        }
      }
      Config o = obj.toConfig();
      // a given name is checked for duplicates even when the rest of the condition is wrong
      String given =
          o.hasPath("name") && obj.get("name").valueType() == ConfigValueType.STRING
              ? o.getString("name")
              : null;
      if (given != null && !names.add(given)) {
        r.problems.add(obj.origin(), at + ".name", "duplicate condition name '" + given + "'");
      }
      Condition cond =
          ConditionSyntax.read(
              o,
              defaultConvention,
              (k, message) ->
                  r.problems.add(
                      o.hasPath(k) ? o.getValue(k).origin() : obj.origin(), at + "." + k, message));
      if (cond == null) {
        continue;
      }
      if (given == null && !names.add(cond.name())) {
        r.problems.add(
            obj.origin(), at + ".name", "duplicate condition name '" + cond.name() + "'");
      }
      out.add(cond);
    }
    if (list.isEmpty()) {
      r.bad(
          key,
          "is empty: list at least the reference condition, e.g. conditions = [ { name = "
              + "fp, method = none }, { name = rtn4, method = rtn, bits = 4 } ]");
    } else if (!out.isEmpty() && out.stream().noneMatch(Condition::isReference)) {
      r.bad(key, "needs a reference condition with method = none");
    }
    for (Condition.MatchedPruning m : Condition.matched(out)) {
      Optional<Condition> target =
          out.stream().filter(x -> x.name().equals(m.target())).findFirst();
      if (target.isEmpty()) {
        r.bad(
            key,
            "condition '"
                + m.name()
                + "': match-perplexity-of = '"
                + m.target()
                + "' is not a defined condition ("
                + names(out)
                + ")");
      } else if (target.get().isSearched()) {
        r.bad(
            key,
            "condition '"
                + m.name()
                + "': match-perplexity-of must name a condition "
                + "with a fixed compression, not another matched one ('"
                + m.target()
                + "')");
      }
    }
    return out;
  }

  /** {@code qdm.analysis}, checked against the conditions it names. */
  static AuditConfig.AnalysisConfig analysis(ConfigReads r, List<Condition> conditions) {
    double active = r.doubleIn("qdm.analysis.active-firing-rate", 0, 1);
    double survived = r.doubleIn("qdm.analysis.survived-above", -1, 1);
    double damaged = r.doubleIn("qdm.analysis.damaged-below", -1, 1);
    if (damaged > survived) {
      r.bad(
          "qdm.analysis.damaged-below",
          "must not exceed survived-above (" + survived + "), got " + damaged);
    }
    List<List<String>> overlap = new ArrayList<>();
    String okey = "qdm.analysis.overlap";
    if (r.c.getValue(okey).valueType() == ConfigValueType.STRING
        && r.c.getString(okey).equals("auto")) {
      for (Condition.MatchedPruning m : Condition.matched(conditions)) {
        overlap.add(List.of(m.target(), m.name()));
      }
    } else {
      try {
        for (Object pair : r.c.getList(okey).unwrapped()) {
          if (!(pair instanceof List<?> p) || p.size() != 2) {
            r.bad(okey, "must be auto or a list of condition pairs like [[rtn6, prune-matched]]");
            continue;
          }
          List<String> names = List.of(String.valueOf(p.get(0)), String.valueOf(p.get(1)));
          for (String n : names) {
            if (conditions.stream().noneMatch(x -> x.name().equals(n))) {
              r.bad(okey, "condition '" + n + "' is not defined (" + names(conditions) + ")");
            }
          }
          overlap.add(names);
        }
      } catch (ConfigException e) {
        r.bad(okey, "must be auto or a list of condition pairs like [[rtn6, prune-matched]]");
      }
    }
    String pkey = "qdm.analysis.predictor.condition";
    String predictor = r.requiredString(pkey);
    if ("auto".equals(predictor)) {
      predictor =
          Condition.matched(conditions).stream()
              .map(Condition.MatchedPruning::target)
              .findFirst()
              .or(
                  () ->
                      conditions.stream()
                          .filter(x -> !x.isReference())
                          .map(Condition::name)
                          .findFirst())
              .orElse(null);
    } else if (predictor != null
        && conditions.stream().noneMatch(x -> x.name().equals(r.c.getString(pkey)))) {
      r.bad(pkey, "condition '" + predictor + "' is not defined (" + names(conditions) + ")");
    }
    int folds = r.intAtLeast("qdm.analysis.predictor.folds", 2);
    long seed = r.longValue("qdm.analysis.predictor.seed");
    return new AuditConfig.AnalysisConfig(
        active,
        survived,
        damaged,
        overlap,
        predictor == null ? "" : predictor,
        folds,
        seed,
        r.bool("qdm.analysis.null-run"),
        r.allOrPositive("qdm.analysis.ce-loss-tokens"),
        stability(r));
  }

  /** {@code qdm.analysis.stability}: each part's settings, or empty when switched off. */
  private static qdm.analysis.StabilitySettings stability(ConfigReads r) {
    String k = "qdm.analysis.stability";
    boolean on = r.bool(k + ".enabled");
    List<Double> budgets = doubles(r, k + ".budgets");
    for (double f : budgets) {
      if (!(f > 0 && f <= 1)) {
        r.bad(k + ".budgets", "fractions must be in (0, 1], got " + f);
      }
    }
    java.util.Optional<qdm.analysis.StabilitySettings.Subsets> subsets = java.util.Optional.empty();
    if (r.bool(k + ".subsets.enabled")) {
      int count = r.intAtLeast(k + ".subsets.count", 1);
      double fraction = r.doubleIn(k + ".subsets.fraction", 0, 1);
      if (!(fraction > 0)) {
        r.bad(k + ".subsets.fraction", "must be in (0, 1], got " + fraction);
      }
      subsets =
          java.util.Optional.of(
              new qdm.analysis.StabilitySettings.Subsets(
                  count, fraction, r.longValue(k + ".subsets.seed")));
    }
    List<qdm.analysis.StabilitySettings.Threshold> thresholds = new ArrayList<>();
    if (r.bool(k + ".thresholds.enabled")) {
      List<Double> survived = doubles(r, k + ".thresholds.survived");
      List<Double> damaged = doubles(r, k + ".thresholds.damaged");
      for (double s : survived) {
        for (double d : damaged) {
          if (d < s) {
            thresholds.add(new qdm.analysis.StabilitySettings.Threshold(s, d));
          }
        }
      }
    }
    java.util.Optional<qdm.analysis.StabilitySettings.Bootstrap> bootstrap =
        java.util.Optional.empty();
    if (r.bool(k + ".bootstrap.enabled")) {
      int samples = r.intAtLeast(k + ".bootstrap.samples", 1);
      double confidence = r.doubleIn(k + ".bootstrap.confidence", 0, 1);
      if (!(confidence > 0 && confidence < 1)) {
        r.bad(k + ".bootstrap.confidence", "must be in (0, 1), got " + confidence);
      }
      bootstrap =
          java.util.Optional.of(
              new qdm.analysis.StabilitySettings.Bootstrap(
                  samples, confidence, r.longValue(k + ".bootstrap.seed")));
    }
    if (!on) {
      return qdm.analysis.StabilitySettings.OFF;
    }
    return new qdm.analysis.StabilitySettings(budgets, subsets, thresholds, bootstrap);
  }

  /** A list of numbers (an empty list is allowed: the part is off). */
  private static List<Double> doubles(ConfigReads r, String key) {
    List<Double> out = new ArrayList<>();
    try {
      for (Object o : r.c.getList(key).unwrapped()) {
        if (o instanceof Number n) {
          out.add(n.doubleValue());
        } else {
          r.bad(key, "must be a list of numbers, got " + o);
        }
      }
    } catch (ConfigException e) {
      r.bad(key, "must be a list of numbers");
    }
    return out;
  }

  private static String names(List<Condition> conditions) {
    return "defined: " + String.join(", ", conditions.stream().map(Condition::name).toList());
  }
}
