package qdm.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import qdm.QdmException;
import qdm.compress.Convention;
import qdm.condition.Condition;
import qdm.condition.ConditionSyntax;
import qdm.hub.HubUri;

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
  private static final Pattern NAME = ConditionSyntax.NAME;

  /** Master URLs Spark accepts (SparkContext's own forms). */
  private static final Pattern MASTER =
      Pattern.compile(
          "local|local\\[([1-9][0-9]*|\\*)"
              + "(,\\s*[0-9]+)?]|local-cluster\\[\\s*[0-9]+\\s*,\\s*[0-9]+\\s*,\\s*[0-9]+\\s*]"
              + "|spark://\\S+|yarn|k8s://\\S+|mesos://\\S+");

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
    AuditConfig config = new Reader(merged, problems, source).read();
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

  /** Collected validation problems, reported together. */
  static final class Problems {
    private final String source;
    private final List<String> lines = new ArrayList<>();
    private final Set<String> keys = new HashSet<>();

    Problems(String source) {
      this.source = source;
    }

    /**
     * Records a problem with {@code key}; only the first one per key is kept, since a later one is
     * a consequence of the first (a value that did not parse fails its range check too).
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
  private static final class Reader {
    private final Config c;
    private final Problems problems;
    private final String source;

    /** {@code qdm.compression.convention}: the conditions' convention unless they say. */
    private Convention defaultConvention = Convention.HF;

    Reader(Config c, Problems problems, String source) {
      this.c = c;
      this.problems = problems;
      this.source = source;
    }

    AuditConfig read() {
      String runName = requiredString("qdm.run-name");
      if (runName != null && !NAME.matcher(runName).matches()) {
        bad(
            "qdm.run-name",
            "must be letters, digits, '.', '_' or '-' (it names a directory), "
                + "got '"
                + runName
                + "'");
      }
      String output = requiredString("qdm.output");

      var model =
          new AuditConfig.ModelSettings(
              requiredString("qdm.model.path"),
              optionalString("qdm.model.weights"),
              oneOf("qdm.model.dtype", "auto", "float32", "float16"),
              oneOf("qdm.model.processing", "none", "transformerlens"));
      String convention = oneOf("qdm.compression.convention", names(Convention.values()));
      defaultConvention =
          convention == null
              ? Convention.HF
              : Convention.parse(convention, "qdm.compression.convention");
      var sae =
          new AuditConfig.SaeSettings(
              requiredString("qdm.sae.path"),
              oneOf("qdm.sae.format", "auto", "saelens", "gemmascope", "sparsify", "llamascope"),
              optionalString("qdm.sae.hook"));

      List<String> paths = stringList("qdm.corpus.paths");
      if (paths.isEmpty()) {
        bad("qdm.corpus.paths", "must list at least one file or directory");
      }
      long maxTokens = positiveLong("qdm.corpus.max-tokens");
      var corpus =
          new AuditConfig.CorpusSettings(
              paths,
              oneOf("qdm.corpus.format", "auto", "text", "jsonl", "parquet"),
              requiredString("qdm.corpus.text-column"),
              string("qdm.corpus.separator"),
              maxTokens,
              bool("qdm.corpus.bos"));

      int chunk = intAtLeast("qdm.windows.chunk-length", 2);
      if (maxTokens > 0 && chunk > 0 && maxTokens < chunk) {
        bad(
            "qdm.corpus.max-tokens",
            "must be at least one chunk (" + chunk + " tokens), got " + maxTokens);
      }
      int slideLength = intAtLeast("qdm.windows.sliding.length", 2);
      int stride = intAtLeast("qdm.windows.sliding.stride", 1);
      if (slideLength > 0 && stride >= slideLength) {
        bad(
            "qdm.windows.sliding.stride",
            "must be smaller than the window length "
                + slideLength
                + " (each window must overlap the previous one), got "
                + stride);
      }
      OptionalLong slideTokens =
          c.getIsNull("qdm.windows.sliding.max-tokens")
              ? OptionalLong.empty()
              : OptionalLong.of(positiveLong("qdm.windows.sliding.max-tokens"));
      Optional<AuditConfig.SlidingCorpus> slideCorpus = Optional.empty();
      List<String> slideSources = List.of();
      if (!c.getIsNull("qdm.windows.sliding.corpus.paths")) {
        List<String> slidePaths = stringList("qdm.windows.sliding.corpus.paths");
        if (slidePaths.isEmpty()) {
          bad(
              "qdm.windows.sliding.corpus.paths",
              "must list at least one file or directory "
                  + "(or be null: the sliding windows then read the chunk windows' corpus)");
        }
        slideCorpus =
            Optional.of(
                new AuditConfig.SlidingCorpus(
                    slidePaths,
                    oneOf("qdm.windows.sliding.corpus.format", "auto", "text", "jsonl", "parquet"),
                    requiredString("qdm.windows.sliding.corpus.text-column")));
        slideSources = sourceList("qdm.windows.sliding.corpus.source", slidePaths.size());
      } else if (!c.getIsNull("qdm.windows.sliding.corpus.source")) {
        bad(
            "qdm.windows.sliding.corpus.source",
            "applies only with " + "qdm.windows.sliding.corpus.paths");
      }
      var windows =
          new AuditConfig.WindowSettings(
              chunk,
              new AuditConfig.Sliding(
                  bool("qdm.windows.sliding.enabled"),
                  slideLength,
                  stride,
                  bool("qdm.windows.sliding.bos"),
                  slideTokens,
                  slideCorpus));
      var sources =
          new AuditConfig.Sources(
              source("qdm.model.source"),
              source("qdm.sae.source"),
              sourceList("qdm.corpus.source", paths.size()),
              slideSources);
      Optional<String> endpoint = optionalString("qdm.hub.endpoint");
      if (endpoint.isPresent() && !endpoint.get().matches("(?i)https?://[^\\s/]+(/\\S*)?")) {
        bad("qdm.hub.endpoint", "must be an http:// or https:// URL, got '" + endpoint.get() + "'");
      }
      var hub =
          new AuditConfig.HubConfig(
              optionalString("qdm.hub.cache"), endpoint, bool("qdm.hub.offline"));
      for (String key : List.of("qdm.model.path", "qdm.model.weights", "qdm.sae.path")) {
        if (!c.getIsNull(key)) {
          hubLocation(key, c.getString(key));
        }
      }
      paths.forEach(p -> hubLocation("qdm.corpus.paths", p));
      slideCorpus.ifPresent(
          sc -> sc.paths().forEach(p -> hubLocation("qdm.windows.sliding.corpus.paths", p)));

      List<Condition> conditions = conditions();
      var analysis = analysis(conditions);

      var execution =
          new AuditConfig.ExecutionSettings(
              intAtLeast("qdm.execution.batch-size", 1),
              oneOf("qdm.execution.device", "auto", "cpu", "gpu"),
              autoBytes("qdm.execution.weight-cache-bytes"),
              autoInt("qdm.execution.windows-per-task"),
              autoInt("qdm.execution.threads-per-task"));

      Map<String, String> sparkConf = new LinkedHashMap<>();
      if (c.hasPath("qdm.spark.conf")) {
        for (Map.Entry<String, ConfigValue> e : c.getConfig("qdm.spark.conf").entrySet()) {
          sparkConf.put(
              String.join(".", ConfigUtil.splitPath(e.getKey())),
              String.valueOf(e.getValue().unwrapped()));
        }
      }
      String master = requiredString("qdm.spark.master");
      if (master != null && !MASTER.matcher(master).matches()) {
        bad(
            "qdm.spark.master",
            "must be a Spark master URL: local, local[N], local[*], "
                + "local[N,F], spark://HOST:PORT, yarn or k8s://URL; got '"
                + master
                + "'");
      }
      var spark = new AuditConfig.SparkSettings(master, sparkConf);
      String text =
          c.getConfig(ROOT)
              .atKey(ROOT)
              .root()
              .render(ConfigRenderOptions.defaults().setOriginComments(false).setJson(false));
      if (!problems.isEmpty()) {
        return null;
      }
      return new AuditConfig(
          runName,
          output,
          model,
          sae,
          corpus,
          windows,
          conditions,
          analysis,
          execution,
          spark,
          sources,
          hub,
          source,
          text);
    }

    private List<Condition> conditions() {
      String key = "qdm.conditions";
      List<Condition> out = new ArrayList<>();
      ConfigList list;
      try {
        list = c.getList(key);
      } catch (ConfigException e) {
        bad(key, "must be a list of { name = ..., method = ... } objects");
        return out;
      }
      Set<String> names = new HashSet<>();
      Set<String> known = ConditionSyntax.keys();
      for (int i = 0; i < list.size(); i++) {
        String at = key + "[" + i + "]";
        if (list.get(i).valueType() != ConfigValueType.OBJECT) {
          problems.add(list.get(i).origin(), at, "must be an object { name = ..., method = ... }");
          continue;
        }
        ConfigObject obj = (ConfigObject) list.get(i);
        for (String k : obj.keySet()) {
          if (!known.contains(k)) {
            problems.add(
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
          problems.add(obj.origin(), at + ".name", "duplicate condition name '" + given + "'");
        }
        Condition cond =
            ConditionSyntax.read(
                o,
                defaultConvention,
                (k, message) ->
                    problems.add(
                        o.hasPath(k) ? o.getValue(k).origin() : obj.origin(),
                        at + "." + k,
                        message));
        if (cond == null) {
          continue;
        }
        if (given == null && !names.add(cond.name())) {
          problems.add(
              obj.origin(), at + ".name", "duplicate condition name '" + cond.name() + "'");
        }
        out.add(cond);
      }
      if (list.isEmpty()) {
        bad(
            key,
            "is empty: list at least the reference condition, e.g. conditions = [ { name = "
                + "fp, method = none }, { name = rtn4, method = rtn, bits = 4 } ]");
      } else if (!out.isEmpty() && out.stream().noneMatch(Condition::isReference)) {
        bad(key, "needs a reference condition with method = none");
      }
      for (Condition.MatchedPruning m : Condition.matched(out)) {
        Optional<Condition> target =
            out.stream().filter(x -> x.name().equals(m.target())).findFirst();
        if (target.isEmpty()) {
          bad(
              key,
              "condition '"
                  + m.name()
                  + "': match-perplexity-of = '"
                  + m.target()
                  + "' is not a defined condition ("
                  + names(out)
                  + ")");
        } else if (target.get().isSearched()) {
          bad(
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

    private AuditConfig.AnalysisConfig analysis(List<Condition> conditions) {
      double active = doubleIn("qdm.analysis.active-firing-rate", 0, 1);
      double survived = doubleIn("qdm.analysis.survived-above", -1, 1);
      double damaged = doubleIn("qdm.analysis.damaged-below", -1, 1);
      if (damaged > survived) {
        bad(
            "qdm.analysis.damaged-below",
            "must not exceed survived-above (" + survived + "), got " + damaged);
      }
      List<List<String>> overlap = new ArrayList<>();
      String okey = "qdm.analysis.overlap";
      if (c.getValue(okey).valueType() == ConfigValueType.STRING
          && c.getString(okey).equals("auto")) {
        for (Condition.MatchedPruning m : Condition.matched(conditions)) {
          overlap.add(List.of(m.target(), m.name()));
        }
      } else {
        try {
          for (Object pair : c.getList(okey).unwrapped()) {
            if (!(pair instanceof List<?> p) || p.size() != 2) {
              bad(okey, "must be auto or a list of condition pairs like [[rtn6, prune-matched]]");
              continue;
            }
            List<String> names = List.of(String.valueOf(p.get(0)), String.valueOf(p.get(1)));
            for (String n : names) {
              if (conditions.stream().noneMatch(x -> x.name().equals(n))) {
                bad(okey, "condition '" + n + "' is not defined (" + names(conditions) + ")");
              }
            }
            overlap.add(names);
          }
        } catch (ConfigException e) {
          bad(okey, "must be auto or a list of condition pairs like [[rtn6, prune-matched]]");
        }
      }
      String pkey = "qdm.analysis.predictor.condition";
      String predictor = requiredString(pkey);
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
          && conditions.stream().noneMatch(x -> x.name().equals(c.getString(pkey)))) {
        bad(pkey, "condition '" + predictor + "' is not defined (" + names(conditions) + ")");
      }
      int folds = intAtLeast("qdm.analysis.predictor.folds", 2);
      long seed = longValue("qdm.analysis.predictor.seed");
      return new AuditConfig.AnalysisConfig(
          active,
          survived,
          damaged,
          overlap,
          predictor == null ? "" : predictor,
          folds,
          seed,
          bool("qdm.analysis.null-run"));
    }

    /** The lower-case names of an enum's constants: the allowed values of its key. */
    private static String[] names(Enum<?>[] values) {
      return java.util.Arrays.stream(values)
          .map(v -> v.name().toLowerCase(Locale.ROOT))
          .toArray(String[]::new);
    }

    private static String names(List<Condition> conditions) {
      return "defined: " + String.join(", ", conditions.stream().map(Condition::name).toList());
    }

    // ---- hub locations and source hints ------------------------------------------------

    /** Checks an {@code hf://} location (other paths are checked by the preflight). */
    private void hubLocation(String key, String value) {
      if (HubUri.isHub(value)) {
        try {
          HubUri.parse(value);
        } catch (QdmException e) {
          bad(key, e.getMessage());
        }
      }
    }

    /** A source hint: free text whose first word, if it starts with hf://, must parse. */
    private Optional<String> source(String key) {
      Optional<String> v = optionalString(key);
      v.ifPresent(s -> hubLocation(key, firstWord(s)));
      return v;
    }

    /** Source hints of a list of paths: one for all (repeated) or one per path. */
    private List<String> sourceList(String key, int paths) {
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
      if (c.getValue(key).valueType() == ConfigValueType.STRING
          && "auto".equals(c.getString(key))) {
        return OptionalInt.empty();
      }
      return OptionalInt.of(intAtLeast(key, 1));
    }

    OptionalLong autoBytes(String key) {
      if (c.getValue(key).valueType() == ConfigValueType.STRING
          && "auto".equals(c.getString(key))) {
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
}
