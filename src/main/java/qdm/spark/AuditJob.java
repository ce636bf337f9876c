package qdm.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import qdm.QdmException;
import qdm.analysis.AnalysisTables;
import qdm.condition.Condition;
import qdm.config.AuditConfig;
import qdm.data.Window;
import qdm.io.LocalPaths;
import qdm.tokenize.Tokenizer;

/**
 * The audit as one Spark batch job: tokenize, encode (every condition, the matched-perplexity
 * search included), analyze, report. Each stage reads the previous stage's tables, skips itself
 * when its outputs exist with the same inputs, and publishes atomically, so a failed or interrupted
 * run resumes where it stopped.
 */
public final class AuditJob {
  private static final Logger LOG = LogManager.getLogger(AuditJob.class);

  /** The stages, in order. */
  public static final List<String> STAGES = List.of("tokenize", "encode", "analyze", "report");

  private final SparkSession spark;
  private final AuditConfig config;
  private final Preflight preflight;
  private final RunLayout layout;
  private final StageLedger ledger;
  private final boolean force;

  public AuditJob(SparkSession spark, AuditConfig config, Preflight preflight, boolean force) {
    this.spark = spark;
    this.config = config;
    this.preflight = preflight;
    this.force = force;
    this.layout =
        new RunLayout(
            config.output(), config.runName(), spark.sparkContext().hadoopConfiguration());
    this.ledger = new StageLedger(layout);
  }

  public RunLayout layout() {
    return layout;
  }

  /** Conditions in the order they are encoded: reference, null run, fixed ones, matched ones. */
  public static List<Condition> encodeOrder(AuditConfig config) {
    List<Condition> order = new ArrayList<>();
    order.add(config.reference());
    if (config.analysis().nullRun()) {
      order.add(nullRun(config));
    }
    for (Condition c : config.conditions()) {
      if (c != config.reference() && !c.isSearched()) {
        order.add(c);
      }
    }
    order.addAll(Condition.matched(config.conditions()));
    return order;
  }

  /** The FP-vs-FP null run: the reference encoded a second time, independently. */
  public static Condition.Reference nullRun(AuditConfig config) {
    return new Condition.Reference(config.reference().name() + "-null");
  }

  /**
   * Runs {@code stages} (all when empty) in order. A stage needs the complete output of the stages
   * before it, for this configuration; those are checked first, before anything is touched, and
   * only when a later stage is asked for, so {@code --stage tokenize} alone succeeds on a fresh
   * run.
   *
   * <p>The run directory is never left looking complete while it is not: before the first new
   * output is published, every step that will be recomputed, every step whose record no longer
   * matches this configuration, everything downstream of those (their markers first, the report
   * last of all) and the outputs of conditions no longer configured are removed, and {@code
   * config.conf} with them; {@code config.conf} is written again when the asked stages are done. So
   * after an interruption, {@code _stages/report.json} exists only if every table and the report
   * belong to the configuration in {@code config.conf} ({@link RunState}).
   */
  public void run(List<String> stages) {
    List<String> todo = stages.isEmpty() ? STAGES : stages;
    CurrentStep.at("the start of " + layout.root());
    layout.clearScratch();
    String tokenizeFp = tokenizeFingerprint();
    Map<String, String> encodeFps = new LinkedHashMap<>();
    for (Condition c : encodeOrder(config)) {
      encodeFps.put(c.name(), encodeFingerprint(c, tokenizeFp, encodeFps));
    }
    String analyzeFp = StageLedger.fingerprint(encodeFps, config.analysis());
    requireEarlierStages(todo, tokenizeFp, encodeFps, analyzeFp);

    boolean tokenize =
        todo.contains("tokenize") && (force || !ledger.isComplete("tokenize", tokenizeFp));
    List<String> encode = new ArrayList<>();
    if (todo.contains("encode")) {
      for (Condition c : encodeOrder(config)) {
        if (force || !ledger.isComplete("encode/" + c.name(), encodeFps.get(c.name()))) {
          encode.add(c.name());
        }
      }
    }
    boolean analyze =
        todo.contains("analyze")
            && (force || !encode.isEmpty() || !ledger.isComplete("analyze", analyzeFp));
    boolean report = todo.contains("report");
    // the corpus is read and checked before anything in the run directory changes
    List<Window> windows = tokenize ? tokenizeCorpus() : List.of();
    invalidate(tokenize, encode, analyze, report, tokenizeFp, encodeFps, analyzeFp);

    if (tokenize) {
      CurrentStep.at("tokenize");
      tokenize(tokenizeFp, windows);
    } else if (todo.contains("tokenize")) {
      LOG.info("tokenize: complete with the same inputs, skipped");
    }
    if (ledger.isComplete("tokenize", tokenizeFp)) {
      System.err.println(tokensUsed());
    }
    if (todo.contains("encode")) {
      encode(encode, encodeFps);
    }
    if (analyze) {
      CurrentStep.at("analyze");
      Map<String, Object> facts =
          AnalyzeStage.run(
              spark,
              config,
              layout,
              encodeOrder(config),
              sparsities(),
              tokens(),
              preflight.sae().dSae());
      ledger.complete("analyze", analyzeFp, facts);
    } else if (todo.contains("analyze")) {
      LOG.info("analyze: complete with the same inputs, skipped");
    }
    if (report) {
      CurrentStep.at("report");
      ReportStage.run(spark, config, layout, preflight, tokens());
      ledger.complete("report", analyzeFp, Map.of());
    }
    writeConfig();
    layout.clearScratch();
  }

  /** Fails, before anything is changed, when an asked stage lacks an earlier one's output. */
  private void requireEarlierStages(
      List<String> todo, String tokenizeFp, Map<String, String> encodeFps, String analyzeFp) {
    int first = todo.stream().mapToInt(STAGES::indexOf).min().orElse(0);
    int last = todo.stream().mapToInt(STAGES::indexOf).max().orElse(-1);
    if (last > 0 && first > 0) {
      requireComplete("tokenize", tokenizeFp);
    }
    if (last > 1 && first > 1) {
      for (Map.Entry<String, String> e : encodeFps.entrySet()) {
        requireComplete("encode/" + e.getKey(), e.getValue());
      }
    }
    if (last > 2 && first > 2) {
      requireComplete("analyze", analyzeFp);
    }
  }

  /**
   * Removes, markers before outputs and downstream before upstream, every step that is about to be
   * recomputed or no longer matches this configuration, what depends on it, and the outputs of
   * conditions that are not configured any more. Does nothing when nothing will run.
   */
  private void invalidate(
      boolean tokenize,
      List<String> encode,
      boolean analyze,
      boolean report,
      String tokenizeFp,
      Map<String, String> encodeFps,
      String analyzeFp) {
    boolean tokenizeGone = tokenize || ledger.isStale("tokenize", tokenizeFp);
    List<String> encodeGone = new ArrayList<>();
    for (Map.Entry<String, String> e : encodeFps.entrySet()) {
      String step = "encode/" + e.getKey();
      if (encode.contains(e.getKey()) || ledger.isStale(step, e.getValue())) {
        encodeGone.add(e.getKey());
      }
    }
    List<String> unconfigured = unconfiguredConditions(encodeFps.keySet());
    boolean analyzeGone =
        analyze
            || tokenizeGone
            || !encodeGone.isEmpty()
            || !unconfigured.isEmpty()
            || ledger.isStale("analyze", analyzeFp);
    boolean reportGone = report || analyzeGone || ledger.isStale("report", analyzeFp);
    if (!reportGone) {
      return;
    }
    layout.delete(layout.table("config.conf"));
    ledger.invalidate("report");
    if (analyzeGone) {
      ledger.invalidate("analyze");
    }
    for (String name : encodeGone) {
      ledger.invalidate("encode/" + name);
    }
    for (String name : unconfigured) {
      ledger.invalidate("encode/" + name);
    }
    if (tokenizeGone) {
      ledger.invalidate("tokenize");
    }
    layout.delete(layout.table("report"));
    if (analyzeGone) {
      AnalysisTables.NAMES.forEach(t -> layout.delete(layout.table(t)));
    }
    if (!unconfigured.isEmpty()) {
      System.err.println(
          "qdm run: removing the outputs of conditions this configuration no "
              + "longer has: "
              + String.join(", ", unconfigured)
              + " (codes, token_nll, "
              + "matched_search, stage records); the tables and the report will hold only "
              + String.join(", ", encodeFps.keySet()));
    }
    for (String name : concat(encodeGone, unconfigured)) {
      clearCondition(name);
    }
    if (tokenizeGone) {
      layout.delete(layout.table("windows"));
    }
  }

  /** Conditions that have outputs or stage records in the run directory but are not configured. */
  private List<String> unconfiguredConditions(java.util.Set<String> configured) {
    java.util.Set<String> found = new java.util.TreeSet<>();
    for (String table : List.of("codes", "token_nll", "matched_search")) {
      for (String dir : layout.children(layout.table(table))) {
        if (dir.startsWith("condition=")) {
          found.add(dir.substring("condition=".length()));
        }
      }
    }
    found.addAll(ledger.conditionSteps());
    found.removeAll(configured);
    return List.copyOf(found);
  }

  private void clearCondition(String name) {
    for (String table : List.of("codes", "token_nll", "matched_search")) {
      layout.delete(new org.apache.hadoop.fs.Path(layout.table(table), "condition=" + name));
      if (layout.children(layout.table(table)).isEmpty()) {
        layout.delete(layout.table(table)); // no table rather than an empty directory
      }
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private void requireComplete(String step, String fingerprint) {
    if (!ledger.isComplete(step, fingerprint)) {
      String stage = step.contains("/") ? step.substring(0, step.indexOf('/')) : step;
      throw new QdmException(
          layout.root()
              + ": stage '"
              + stage
              + "' has no complete output "
              + "for this configuration"
              + (step.contains("/") ? " (" + step + ")" : "")
              + "; run it first (jobs/qdm run CONF --stage "
              + stage
              + ") or run all stages");
    }
  }

  private void writeConfig() {
    layout.writeText(layout.table("config.conf"), config.text());
  }

  // ---- tokenize ------------------------------------------------------------------------

  private String tokenizeFingerprint() {
    Path tokenizer = config.modelFiles().tokenizer();
    String tokenizerHash;
    try {
      tokenizerHash = StageLedger.fingerprint(Files.readString(tokenizer));
    } catch (java.io.IOException e) {
      throw new QdmException(tokenizer + ": cannot read: " + e.getMessage());
    }
    List<String> corpora = new ArrayList<>(config.corpus().paths());
    config.windows().sliding().corpus().ifPresent(c -> corpora.addAll(c.paths()));
    return StageLedger.fingerprint(
        "tokenize",
        tokenizerHash,
        config.corpus(),
        config.windows(),
        preflight.bosTokenId(),
        corpusStamp(corpora));
  }

  /**
   * Size and modification time of every corpus file: an edited or replaced corpus under the same
   * path is tokenized again instead of being taken for the one the run used.
   */
  private String corpusStamp(List<String> paths) {
    StringBuilder s = new StringBuilder();
    var hadoop = spark.sparkContext().hadoopConfiguration();
    for (org.apache.hadoop.fs.Path f :
        new qdm.data.CorpusReader(spark, "auto", "text").files(paths)) {
      try {
        var st = f.getFileSystem(hadoop).getFileStatus(f);
        s.append(f)
            .append(':')
            .append(st.getLen())
            .append(':')
            .append(st.getModificationTime())
            .append(';');
      } catch (java.io.IOException e) {
        throw new QdmException(f + ": cannot read the corpus file's status: " + e.getMessage());
      }
    }
    return s.toString();
  }

  private List<Window> tokenizeCorpus() {
    CurrentStep.at("tokenize");
    Path tokenizerFile = config.modelFiles().tokenizer();
    try (Tokenizer tokenizer = Tokenizer.load(tokenizerFile)) {
      return TokenizeStage.prepare(
          spark, config, tokenizer, preflight.bosTokenId(), preflight.model().vocabSize());
    }
  }

  private void tokenize(String fingerprint, List<Window> windows) {
    long start = System.nanoTime();
    TokenizeStage.Result r = TokenizeStage.publish(spark, layout, windows);
    LOG.info(
        String.format(
            Locale.ROOT,
            "tokenize: %,d chunk windows (%,d tokens), %,d sliding "
                + "windows (%,d scored tokens) written in %.1f s",
            r.chunkWindows(),
            r.chunkTokens(),
            r.slideWindows(),
            r.slideTokens(),
            (System.nanoTime() - start) / 1e9));
    ledger.complete("tokenize", fingerprint, r.facts());
  }

  /**
   * The tokens the audit actually uses (whole chunk windows; the plan printed before the run gives
   * only {@code corpus.max-tokens}, an upper bound), with a warning when the corpus had fewer than
   * that.
   */
  String tokensUsed() {
    Map<String, Object> t = tokens();
    long used = ((Number) t.get("chunk_tokens")).longValue();
    long windows = ((Number) t.get("chunk_windows")).longValue();
    long max = config.corpus().maxTokens();
    String s =
        String.format(
            Locale.ROOT,
            "qdm run: corpus: %,d tokens used, in %,d windows of " + "%d",
            used,
            windows,
            config.windows().chunkLength());
    if (config.windows().sliding().enabled()) {
      s +=
          String.format(
              Locale.ROOT,
              "; sliding perplexity over %,d scored tokens",
              ((Number) t.get("slide_tokens")).longValue());
    }
    if (used + config.windows().chunkLength() <= max) {
      s +=
          String.format(
              Locale.ROOT,
              "%n  warning: qdm.corpus.max-tokens is %,d but the corpus "
                  + "holds only %,d tokens' worth of whole windows",
              max,
              used);
    }
    return s;
  }

  private Map<String, Object> tokens() {
    return ledger
        .read("tokenize")
        .map(
            m -> {
              Map<String, Object> facts = new LinkedHashMap<>();
              m.getAsJsonObject("facts")
                  .entrySet()
                  .forEach(e -> facts.put(e.getKey(), e.getValue().getAsLong()));
              return facts;
            })
        .orElseThrow();
  }

  // ---- encode --------------------------------------------------------------------------

  private String encodeFingerprint(Condition c, String tokenizeFp, Map<String, String> earlier) {
    String modelFiles =
        LocalPaths.local(config.model().path())
            + "|"
            + config.model().weights()
            + "|"
            + fileStamp(Path.of(LocalPaths.local(config.model().path())));
    String sae =
        LocalPaths.local(config.sae().path())
            + "|"
            + config.sae().format()
            + "|"
            + preflight.hook()
            + "|"
            + fileStamp(Path.of(LocalPaths.local(config.sae().path())));
    // a matched condition's weights depend on its target's results; a checkpoint's on its files
    String condition =
        c
            + c.dependsOn().map(t -> "|" + earlier.get(t)).orElse("")
            + c.files().map(f -> "|" + fileStamp(Path.of(LocalPaths.local(f)))).orElse("");
    return StageLedger.fingerprint(
        "encode",
        tokenizeFp,
        modelFiles,
        config.model().dtype(),
        config.model().processing(),
        sae,
        c.name(),
        condition,
        config.windows().sliding().enabled());
  }

  /** Size and modification time of the files in a directory (or of a file): cheap identity. */
  private static String fileStamp(Path p) {
    try (var files = Files.isDirectory(p) ? Files.list(p) : java.util.stream.Stream.of(p)) {
      return files
          .sorted()
          .map(
              f -> {
                try {
                  return f.getFileName() + ":" + Files.size(f) + ":" + Files.getLastModifiedTime(f);
                } catch (java.io.IOException e) {
                  return f.getFileName().toString();
                }
              })
          .reduce("", (a, b) -> a + ";" + b);
    } catch (java.io.IOException e) {
      return p.toString();
    }
  }

  /**
   * Windows per task for a pass over {@code windows} windows: as configured, else whole batches, at
   * most 8, and small enough that every core gets about two tasks. (A fixed 8 batches left one of
   * two cores idle whenever a pass had fewer than 8 batches' worth of windows.)
   */
  private int perTask(long windows) {
    int batch = config.execution().batchSize();
    if (config.execution().windowsPerTask().isPresent()) {
      return config.execution().windowsPerTask().getAsInt();
    }
    long tasks = 2L * Math.max(1, spark.sparkContext().defaultParallelism());
    long batches = Math.max(1, -Math.floorDiv(-windows, tasks * batch));
    return (int) Math.min(8, batches) * batch;
  }

  private long chunkWindows() {
    return (Long) tokens().get("chunk_windows");
  }

  /** Encodes {@code todo} (already invalidated and cleared), in encode order. */
  private void encode(List<String> todo, Map<String, String> fingerprints) {
    EncodeStage stage = new EncodeStage(spark, layout);
    boolean local = spark.sparkContext().isLocal();
    int threads = config.execution().threadsPerTask().orElse(0);
    for (Condition c : encodeOrder(config)) {
      String step = "encode/" + c.name();
      String fp = fingerprints.get(c.name());
      if (!todo.contains(c.name())) {
        LOG.info(step + ": complete with the same inputs, skipped");
        continue;
      }
      CurrentStep.at(step);
      Map<String, Object> facts = new LinkedHashMap<>();
      EncodeSpec spec = EncodeSpec.of(config, c, true, local, threads, preflight.hook());
      String compression = c.spec();
      if (c instanceof Condition.MatchedPruning m) {
        MatchedSearch.Outcome o =
            MatchedSearch.run(
                spark,
                layout,
                stage,
                m,
                spec.nllOnly(),
                config.windows().chunkLength(),
                perTask(
                    Math.min(
                        chunkWindows(),
                        Math.max(1, m.search().maxTokens() / config.windows().chunkLength()))));
        long searchTokens =
            Math.max(1, m.search().maxTokens() / config.windows().chunkLength())
                * config.windows().chunkLength();
        var scratch = layout.scratch("matched_search");
        spark
            .createDataFrame(MatchedSearch.rows(m, o, searchTokens), MatchedSearch.SCHEMA)
            .drop("condition")
            .coalesce(1)
            .write()
            .mode(SaveMode.ErrorIfExists)
            .parquet(scratch.toString());
        layout.commit(
            scratch,
            new org.apache.hadoop.fs.Path(layout.table("matched_search"), "condition=" + c.name()));
        Condition chosen = m.at(o.chosen());
        compression = chosen.spec();
        spec = spec.withCondition(chosen);
        facts.put("sparsity", o.chosen());
        facts.put("target_ppl", o.targetPpl());
        LOG.info(String.format(Locale.ROOT, "%s: chose sparsity %.4f", c.name(), o.chosen()));
      }
      facts.put("compression", compression);
      EncodeStage.Result r =
          stage.run(
              spec, spec.nllOnly(), perTask(chunkWindows()), config.windows().sliding().enabled());
      facts.putAll(r.facts());
      LOG.info(
          String.format(
              Locale.ROOT,
              "%s: %,d tokens, %,d codes (L0 %.1f) in %.1f s",
              step,
              r.tokens(),
              r.codes(),
              (double) r.codes() / Math.max(1, r.tokens()),
              r.seconds()));
      ledger.complete(step, fp, facts);
    }
  }

  /** Sparsity each condition ended with (matched ones from their search), for the tables. */
  private Map<String, Double> sparsities() {
    Map<String, Double> out = new LinkedHashMap<>();
    for (Condition c : encodeOrder(config)) {
      Optional<Double> s =
          ledger
              .read("encode/" + c.name())
              .filter(m -> m.getAsJsonObject("facts").has("sparsity"))
              .map(m -> m.getAsJsonObject("facts").get("sparsity").getAsDouble());
      if (c.sparsity().isPresent()) {
        s = Optional.of(c.sparsity().getAsDouble());
      }
      s.ifPresent(v -> out.put(c.name(), v));
    }
    return out;
  }
}
