package qdm.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import qdm.condition.Condition;

/**
 * A whole audit, validated: one model, one SAE, one corpus and N conditions. Built only by {@link
 * AuditConfigs#load}, which checks every key before any compute.
 *
 * @param source the config file (for messages and provenance)
 * @param text the effective configuration (file, defaults and overrides) as HOCON, for provenance
 */
public record AuditConfig(
    String runName,
    String output,
    ModelSettings model,
    List<SaeSettings> saes,
    CorpusSettings corpus,
    WindowSettings windows,
    List<Condition> conditions,
    AnalysisConfig analysis,
    ExecutionSettings execution,
    SparkSettings spark,
    Sources sources,
    HubConfig hub,
    String source,
    String text) {

  public AuditConfig {
    conditions = List.copyOf(conditions);
    saes = List.copyOf(saes);
  }

  /** The first SAE: the one single-SAE views (drift, the report's detail sections) show. */
  public SaeSettings sae() {
    return saes.get(0);
  }

  /** The reference condition: the first with {@code method = none}. */
  public Condition.Reference reference() {
    return conditions.stream()
        .filter(Condition::isReference)
        .map(c -> (Condition.Reference) c)
        .findFirst()
        .orElseThrow();
  }

  /** The reference model's files, resolved to local paths. */
  public qdm.model.ModelFiles modelFiles() {
    return qdm.model.ModelFiles.resolve(model.path(), model.weights());
  }

  /** The condition named {@code name}. */
  public Optional<Condition> condition(String name) {
    return conditions.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  /** The model directory and weight override. */
  /**
   * @param processing {@code none} or {@code transformerlens}: what is done to the weights at load
   *     (see {@code qdm.model.Processing})
   */
  public record ModelSettings(
      String path, Optional<String> weights, String dtype, String processing) {}

  /** The SAE location, format and hook (null hook: from the SAE's config). */
  /**
   * One SAE of the audit.
   *
   * @param name its name in the tables; empty: its hook (resolved by the preflight)
   * @param key where the config sets it ({@code qdm.sae} or {@code qdm.saes[i]}), for messages
   * @param source where to get it, for messages when it is missing
   */
  public record SaeSettings(
      Optional<String> name,
      String path,
      String format,
      Optional<String> hook,
      String key,
      Optional<String> source) {
    /** The same SAE at another path (a downloaded copy). */
    public SaeSettings withPath(String other) {
      return new SaeSettings(name, other, format, hook, key, source);
    }
  }

  /** Where the text comes from and how much of it is tokenized. */
  public record CorpusSettings(
      List<String> paths,
      String format,
      String textColumn,
      String separator,
      long maxTokens,
      boolean bos) {
    public CorpusSettings {
      paths = List.copyOf(paths);
    }
  }

  /** Chunk and sliding windows. */
  public record WindowSettings(int chunkLength, Sliding sliding) {}

  /**
   * Sliding-window perplexity settings.
   *
   * @param corpus a corpus of its own for the sliding windows (the paper: WikiText-2 test for
   *     Gemma); empty: the sliding windows read the same token stream as the chunk windows
   */
  public record Sliding(
      boolean enabled,
      int length,
      int stride,
      boolean bos,
      OptionalLong maxTokens,
      Optional<SlidingCorpus> corpus) {}

  /** The files of a separate sliding-window corpus (joined with {@code corpus.separator}). */
  public record SlidingCorpus(List<String> paths, String format, String textColumn) {
    public SlidingCorpus {
      paths = List.copyOf(paths);
    }
  }

  /**
   * Where the model, SAE and corpus files come from, for messages when they are missing: an {@code
   * hf://} location, optionally followed by a note ({@code model.source} etc.). Corpus lists are
   * empty or parallel to the paths. Hints only: they change no output.
   */
  public record Sources(
      Optional<String> model,
      Optional<String> sae,
      List<String> corpus,
      List<String> slidingCorpus) {
    public Sources {
      corpus = List.copyOf(corpus);
      slidingCorpus = List.copyOf(slidingCorpus);
    }
  }

  /** Hub download settings ({@code qdm.hub}); empty optionals fall back to the environment. */
  public record HubConfig(Optional<String> cache, Optional<String> endpoint, boolean offline) {}

  /** Rewrites one path of the config (model, weights, SAE, corpus). */
  @FunctionalInterface
  public interface PathMapper {
    /** The path to use instead of {@code path}, which the config has under {@code key}. */
    String map(String key, String path);
  }

  /**
   * This config with every file location passed through {@code m}: {@code qdm.model.path}, {@code
   * qdm.model.weights}, {@code qdm.sae.path}, {@code qdm.corpus.paths} and {@code
   * qdm.windows.sliding.corpus.paths}. Used to put downloaded local copies in place of {@code
   * hf://} locations; {@link #text()} keeps what the user wrote.
   */
  public AuditConfig mapPaths(PathMapper m) {
    var mo =
        new ModelSettings(
            m.map("qdm.model.path", model.path()),
            model.weights().map(w -> m.map("qdm.model.weights", w)),
            model.dtype(),
            model.processing());
    var sa = saes.stream().map(x -> x.withPath(m.map(x.key() + ".path", x.path()))).toList();
    var co =
        new CorpusSettings(
            corpus.paths().stream().map(p -> m.map("qdm.corpus.paths", p)).toList(),
            corpus.format(),
            corpus.textColumn(),
            corpus.separator(),
            corpus.maxTokens(),
            corpus.bos());
    Sliding sl = windows.sliding();
    var sliding =
        new Sliding(
            sl.enabled(),
            sl.length(),
            sl.stride(),
            sl.bos(),
            sl.maxTokens(),
            sl.corpus()
                .map(
                    c ->
                        new SlidingCorpus(
                            c.paths().stream()
                                .map(p -> m.map("qdm.windows.sliding.corpus.paths", p))
                                .toList(),
                            c.format(),
                            c.textColumn())));
    List<Condition> mapped =
        conditions.stream()
            .map(c -> c.mapFiles(p -> m.map("qdm.conditions." + c.name() + ".path", p)))
            .toList();
    return new AuditConfig(
        runName,
        output,
        mo,
        sa,
        co,
        new WindowSettings(windows.chunkLength(), sliding),
        mapped,
        analysis,
        execution,
        spark,
        sources,
        hub,
        source,
        text);
  }

  /**
   * Analysis thresholds and what to compare.
   *
   * @param ceLossTokens the CE-loss score's splices run on about this many tokens: every k-th chunk
   *     window, k = windows / (tokens / chunk length), at least one window; empty: on every token
   */
  public record AnalysisConfig(
      double activeFiringRate,
      double survivedAbove,
      double damagedBelow,
      List<List<String>> overlap,
      String predictorCondition,
      int folds,
      long seed,
      boolean nullRun,
      OptionalLong ceLossTokens,
      qdm.analysis.StabilitySettings stability) {
    public AnalysisConfig {
      overlap = overlap.stream().map(List::copyOf).toList();
    }
  }

  /** How executors run the model. Empty optionals mean "auto". */
  public record ExecutionSettings(
      int batchSize,
      String device,
      OptionalLong weightCacheBytes,
      OptionalInt windowsPerTask,
      OptionalInt threadsPerTask) {}

  /** Spark master for runs outside spark-submit, and extra Spark settings. */
  public record SparkSettings(String master, Map<String, String> conf) {
    public SparkSettings {
      conf = Map.copyOf(conf);
    }
  }
}
