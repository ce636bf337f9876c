package qdm.condition;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import qdm.QdmException;
import qdm.compress.Compression;
import qdm.compress.Convention;
import qdm.compress.MagnitudePruning;
import qdm.compress.Method;
import qdm.compress.Param;
import qdm.compress.Targets;
import qdm.hub.HubUri;
import qdm.io.quant.WeightFormat;
import qdm.model.TensorRole;

/** The HOCON object of a condition ({@code conditions = [ {...} ]}): reading and checking. */
final class HoconSyntax {
  private static final Set<String> SEARCH_KEYS = Set.of("low", "high", "steps", "max-tokens");
  private static final String MATCH = "match-perplexity-of";

  private HoconSyntax() {}

  /**
   * Reads one condition object; every problem goes to {@code problems} (keys relative to the
   * object), and null comes back when there was one that leaves no condition.
   *
   * @param defaultConvention {@code compression.convention}
   */
  static Condition read(Config o, Convention defaultConvention, ConditionSyntax.Problems problems) {
    Reader r = new Reader(o, problems);
    String name = r.string("name");
    if (name != null && !ConditionSyntax.NAME.matcher(name).matches()) {
      problems.add(
          "name",
          "must be letters, digits, '.', '_' or '-' (it names a directory), "
              + "got '"
              + name
              + "'");
    }
    String method = r.string("method");
    if (method == null) {
      problems.add("method", "is required (" + String.join(", ", ConditionSyntax.methods()) + ")");
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
            "method",
            "must be " + String.join(", ", ConditionSyntax.methods()) + ", got '" + method + "'");
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
      Reader r,
      Method m,
      String name,
      Convention defaultConvention,
      ConditionSyntax.Problems problems) {
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
    Compression c = SpecSyntax.build(m, values, defaultConvention, problems);
    if (c == null) {
      return null;
    }
    if (matched) {
      String target = r.string(MATCH);
      Condition.Search search = search(r, problems);
      MagnitudePruning template = (MagnitudePruning) c;
      return new Condition.MatchedPruning(
          name != null ? name : ConditionNames.matchedName(target, template, defaultConvention),
          target,
          search,
          template);
    }
    return new Condition.Simulated(
        name != null ? name : ConditionNames.name(c, defaultConvention), c);
  }

  private static Condition checkpoint(Reader r, String name, ConditionSyntax.Problems problems) {
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
    return new Condition.Checkpoint(
        name != null ? name : ConditionNames.checkpointName(path), path, format);
  }

  private static Condition.Search search(Reader r, ConditionSyntax.Problems problems) {
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
    final ConditionSyntax.Problems problems;

    Reader(Config o, ConditionSyntax.Problems problems) {
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
      Set<String> known = ConditionSyntax.keys();
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
