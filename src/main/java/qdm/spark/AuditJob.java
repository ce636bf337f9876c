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
    Map<String, String> conditionFps = new LinkedHashMap<>();
    for (Condition c : encodeOrder(config)) {
      conditionFps.put(c.name(), encodeFingerprint(c, tokenizeFp, conditionFps));
    }
    String encodeFp =
        StageLedger.fingerprint("pass", conditionFps, config.analysis().ceLossTokens());
    String analyzeFp = StageLedger.fingerprint(encodeFp, config.analysis());
    requireEarlierStages(todo, tokenizeFp, encodeFp, analyzeFp);

    boolean tokenize =
        todo.contains("tokenize") && (force || !ledger.isComplete("tokenize", tokenizeFp));
    boolean encode = todo.contains("encode") && (force || !ledger.isComplete("encode", encodeFp));
    boolean analyze =
        todo.contains("analyze") && (force || encode || !ledger.isComplete("analyze", analyzeFp));
    boolean report = todo.contains("report");
    // the corpus is read and checked before anything in the run directory changes
    List<Window> windows = tokenize ? tokenizeCorpus() : List.of();
    // every stability window set must hold a window: known once the corpus is windowed
    if (tokenize) {
      qdm.analysis.Stability.checkWindows(
          (int) windows.stream().filter(w -> w.kind().equals(Window.CHUNK)).count(),
          config.analysis().stability());
    } else if (todo.contains("analyze") && ledger.isComplete("tokenize", tokenizeFp)) {
      qdm.analysis.Stability.checkWindows(
          (int) (long) (Long) tokens().get("chunk_windows"), config.analysis().stability());
    }
    invalidate(tokenize, encode, analyze, report, tokenizeFp, encodeFp, analyzeFp);

    if (tokenize) {
      CurrentStep.at("tokenize");
      tokenize(tokenizeFp, windows);
    } else if (todo.contains("tokenize")) {
      LOG.info("tokenize: complete with the same inputs, skipped");
    }
    if (ledger.isComplete("tokenize", tokenizeFp)) {
      System.err.println(tokensUsed());
    }
    if (encode) {
      encode(encodeFp);
    } else if (todo.contains("encode")) {
      LOG.info("encode: complete with the same inputs, skipped");
    }
    if (analyze) {
      CurrentStep.at("analyze");
      long analyzeStart = System.nanoTime();
      Map<String, Object> facts =
          AnalyzeStage.run(
              spark, config, layout, encodeOrder(config), sparsities(), tokens(), preflight.saes());
      ledger.complete("analyze", analyzeFp, facts);
      LOG.info(
          String.format(
              java.util.Locale.ROOT,
              "analyze: %d SAE(s) x %d conditions in %.1f s",
              preflight.saes().size(),
              encodeOrder(config).size(),
              (System.nanoTime() - analyzeStart) / 1e9));
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
      List<String> todo, String tokenizeFp, String encodeFp, String analyzeFp) {
    int first = todo.stream().mapToInt(STAGES::indexOf).min().orElse(0);
    int last = todo.stream().mapToInt(STAGES::indexOf).max().orElse(-1);
    if (last > 0 && first > 0) {
      requireComplete("tokenize", tokenizeFp);
    }
    if (last > 1 && first > 1) {
      requireComplete("encode", encodeFp);
    }
    if (last > 2 && first > 2) {
      requireComplete("analyze", analyzeFp);
    }
  }

  /** The tables the encode stage writes. */
  static final List<String> ENCODE_TABLES =
      List.of(
          "codes", "token_nll", "matched_search", "feature_sums", "sae_fidelity", "window_sums");

  /**
   * Removes, markers before outputs and downstream before upstream, every step that is about to be
   * recomputed or no longer matches this configuration and what depends on it. Does nothing when
   * nothing will run. The encode stage is one pass over every condition, so a changed condition
   * list re-encodes all of them; the conditions a previous run had and this one lacks are named.
   */
  private void invalidate(
      boolean tokenize,
      boolean encode,
      boolean analyze,
      boolean report,
      String tokenizeFp,
      String encodeFp,
      String analyzeFp) {
    boolean tokenizeGone = tokenize || ledger.isStale("tokenize", tokenizeFp);
    List<String> legacy = ledger.conditionSteps(); // per-condition records of older versions
    boolean encodeGone =
        encode || tokenizeGone || ledger.isStale("encode", encodeFp) || !legacy.isEmpty();
    boolean analyzeGone = analyze || encodeGone || ledger.isStale("analyze", analyzeFp);
    boolean reportGone = report || analyzeGone || ledger.isStale("report", analyzeFp);
    if (!reportGone) {
      return;
    }
    layout.delete(layout.table("config.conf"));
    ledger.invalidate("report");
    if (analyzeGone) {
      ledger.invalidate("analyze");
    }
    List<String> dropped = encodeGone ? droppedConditions() : List.of();
    if (encodeGone) {
      ledger.invalidate("encode");
      legacy.forEach(name -> ledger.invalidate("encode/" + name));
    }
    if (tokenizeGone) {
      ledger.invalidate("tokenize");
    }
    layout.delete(layout.table("report"));
    if (analyzeGone) {
      AnalysisTables.NAMES.forEach(t -> layout.delete(layout.table(t)));
      layout.delete(layout.table("stability_windows"));
    }
    if (!dropped.isEmpty()) {
      System.err.println(
          "qdm run: removing the outputs of conditions this configuration no "
              + "longer has: "
              + String.join(", ", dropped)
              + " (codes, token_nll, matched_search, feature_sums); the tables and the report"
              + " will hold only "
              + String.join(", ", encodeOrder(config).stream().map(Condition::name).toList()));
    }
    if (encodeGone) {
      ENCODE_TABLES.forEach(t -> layout.delete(layout.table(t)));
    }
    if (tokenizeGone) {
      layout.delete(layout.table("windows"));
    }
  }

  /** Conditions with outputs in the run directory that this configuration does not have. */
  private List<String> droppedConditions() {
    java.util.Set<String> found = new java.util.TreeSet<>();
    for (String table : List.of("codes", "token_nll", "matched_search")) {
      org.apache.hadoop.fs.Path root = layout.table(table);
      for (String dir : layout.children(root)) {
        if (dir.startsWith("condition=")) {
          found.add(dir.substring("condition=".length()));
        } else if (dir.startsWith("sae=")) { // codes: sae=NAME/condition=C
          for (String inner : layout.children(new org.apache.hadoop.fs.Path(root, dir))) {
            if (inner.startsWith("condition=")) {
              found.add(inner.substring("condition=".length()));
            }
          }
        }
      }
    }
    found.addAll(ledger.conditionSteps());
    encodeOrder(config).forEach(c -> found.remove(c.name()));
    return List.copyOf(found);
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
    StringBuilder sae = new StringBuilder("saes");
    for (Preflight.NamedSae s : preflight.saes()) {
      String path = LocalPaths.local(s.settings().path());
      sae.append('|')
          .append(s.name())
          .append('|')
          .append(path)
          .append('|')
          .append(s.settings().format())
          .append('|')
          .append(s.config().hook())
          .append('|')
          .append(fileStamp(Path.of(path)));
    }
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
        sae.toString(),
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
   * most 8, and small enough that every core gets about two tasks; when there are fewer windows
   * than a batch per task, tasks of fewer windows than a batch (a pass of 8 windows in batches of 8
   * ran as one task on one core). (A fixed 8 batches left one of two cores idle whenever a pass had
   * fewer than 8 batches' worth of windows.)
   */
  private int perTask(long windows) {
    int batch = config.execution().batchSize();
    if (config.execution().windowsPerTask().isPresent()) {
      return config.execution().windowsPerTask().getAsInt();
    }
    long tasks = 2L * Math.max(1, spark.sparkContext().defaultParallelism());
    if (windows < tasks * batch) {
      // fewer windows than a batch per task: smaller tasks keep every core busy
      return (int) Math.max(1, -Math.floorDiv(-windows, tasks));
    }
    long batches = Math.max(1, -Math.floorDiv(-windows, tasks * batch));
    return (int) Math.min(8, batches) * batch;
  }

  private long chunkWindows() {
    return (Long) tokens().get("chunk_windows");
  }

  /**
   * The encode stage: the matched-perplexity searches first (each needs its target's perplexity and
   * its own probes), then one pass over the chunk windows running every condition on each batch,
   * then the sliding-window perplexity per condition when asked for.
   */
  private void encode(String fingerprint) {
    CurrentStep.at("encode");
    long start = System.nanoTime();
    EncodeStage stage = new EncodeStage(spark, layout);
    boolean local = spark.sparkContext().isLocal();
    int threads = config.execution().threadsPerTask().orElse(0);
    Map<String, Object> perCondition = new LinkedHashMap<>();
    List<Condition> resolved = new ArrayList<>();
    List<org.apache.spark.sql.Row> searchRows = new ArrayList<>();
    for (Condition c : encodeOrder(config)) {
      Map<String, Object> facts = new LinkedHashMap<>();
      Condition run = c;
      if (c instanceof Condition.MatchedPruning m) {
        CurrentStep.at("encode (search for " + c.name() + ")");
        EncodeSpec probe =
            EncodeSpec.of(config, config.reference(), local, threads, EncodeSpec.saes(preflight));
        long windows = Math.max(1, m.search().maxTokens() / config.windows().chunkLength());
        MatchedSearch.Outcome o =
            MatchedSearch.run(
                spark,
                stage,
                m,
                resolved.stream()
                    .filter(x -> x.name().equals(m.target()))
                    .findFirst()
                    .orElseThrow(),
                probe,
                config.windows().chunkLength(),
                perTask(Math.min(chunkWindows(), windows)));
        searchRows.addAll(MatchedSearch.rows(m, o, windows * config.windows().chunkLength()));
        run = m.at(o.chosen());
        facts.put("sparsity", o.chosen());
        facts.put("target_ppl", o.targetPpl());
        LOG.info(String.format(Locale.ROOT, "%s: chose sparsity %.4f", c.name(), o.chosen()));
      }
      facts.put("compression", run.spec());
      perCondition.put(c.name(), facts);
      resolved.add(run);
    }
    CurrentStep.at("encode");
    EncodeSpec base =
        EncodeSpec.of(config, config.reference(), local, threads, EncodeSpec.saes(preflight));
    EncodeStage.PassResult r =
        stage.runPass(new PassSpec(base, resolved, ceLossEvery()), perTask(chunkWindows()));
    LOG.info(
        String.format(
            Locale.ROOT,
            "encode: %,d tokens x %d conditions, %,d codes in %.1f s",
            r.tokens(),
            resolved.size(),
            r.codes(),
            r.seconds()));
    if (!searchRows.isEmpty()) {
      var scratch = layout.scratch("matched_search");
      spark
          .createDataFrame(searchRows, MatchedSearch.SCHEMA)
          .coalesce(1)
          .write()
          .mode(SaveMode.ErrorIfExists)
          .partitionBy("condition")
          .parquet(scratch.toString());
      layout.commit(scratch, layout.table("matched_search"));
    }
    long slideTokens = 0;
    if (config.windows().sliding().enabled()) {
      for (Condition c : resolved) {
        CurrentStep.at("encode (sliding perplexity of " + c.name() + ")");
        slideTokens +=
            stage.runSliding(
                EncodeSpec.of(config, c, local, threads, EncodeSpec.saes(preflight)),
                perTask(chunkWindows()));
      }
    }
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("tokens", r.tokens());
    facts.put("codes", r.codes());
    facts.put("slide_tokens", slideTokens);
    facts.put("seconds", (System.nanoTime() - start) / 1e9);
    facts.put("conditions", perCondition);
    ledger.complete("encode", fingerprint, facts);
  }

  /**
   * Every how many chunk windows the CE-loss splices run: 1 for {@code analysis.ce-loss-tokens =
   * all}, else the spacing that spreads about that many tokens' windows over the whole corpus (and
   * so over every task).
   */
  private long ceLossEvery() {
    var limit = config.analysis().ceLossTokens();
    if (limit.isEmpty()) {
      return 1;
    }
    long wanted = Math.max(1, limit.getAsLong() / config.windows().chunkLength());
    return Math.max(1, chunkWindows() / wanted);
  }

  /** Sparsity each condition ended with (matched ones from their search), for the tables. */
  private Map<String, Double> sparsities() {
    Map<String, Double> out = new LinkedHashMap<>();
    var recorded =
        ledger
            .read("encode")
            .map(m -> m.getAsJsonObject("facts").getAsJsonObject("conditions"))
            .orElse(new com.google.gson.JsonObject());
    for (Condition c : encodeOrder(config)) {
      Optional<Double> s =
          Optional.ofNullable(recorded.getAsJsonObject(c.name()))
              .filter(m -> m.has("sparsity"))
              .map(m -> m.get("sparsity").getAsDouble());
      if (c.sparsity().isPresent()) {
        s = Optional.of(c.sparsity().getAsDouble());
      }
      s.ifPresent(v -> out.put(c.name(), v));
    }
    return out;
  }
}
