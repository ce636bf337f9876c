package qdm.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A whole audit, validated: one model, one SAE, one corpus and N conditions. Built only by
 * {@link AuditConfigs#load}, which checks every key before any compute.
 *
 * @param source the config file (for messages and provenance)
 * @param text the effective configuration (file, defaults and overrides) as HOCON, for provenance
 */
public record AuditConfig(
    String runName,
    String output,
    ModelSettings model,
    SaeSettings sae,
    CorpusSettings corpus,
    WindowSettings windows,
    List<Condition> conditions,
    AnalysisConfig analysis,
    ExecutionSettings execution,
    SparkSettings spark,
    String source,
    String text) {

  public AuditConfig {
    conditions = List.copyOf(conditions);
  }

  /** The reference condition: the first with {@code method = none}. */
  public Condition.Reference reference() {
    return conditions.stream().filter(c -> c instanceof Condition.Reference)
        .map(c -> (Condition.Reference) c).findFirst().orElseThrow();
  }

  /** The condition named {@code name}. */
  public Optional<Condition> condition(String name) {
    return conditions.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  /** The model directory and weight override. */
  public record ModelSettings(String path, Optional<String> weights, String dtype) {}

  /** The SAE location, format and hook (null hook: from the SAE's config). */
  public record SaeSettings(String path, String format, Optional<String> hook) {}

  /** Where the text comes from and how much of it is tokenized. */
  public record CorpusSettings(List<String> paths, String format, String textColumn,
      String separator, long maxTokens, boolean bos) {
    public CorpusSettings {
      paths = List.copyOf(paths);
    }
  }

  /** Chunk and sliding windows. */
  public record WindowSettings(int chunkLength, Sliding sliding) {}

  /** Sliding-window perplexity settings. */
  public record Sliding(boolean enabled, int length, int stride, boolean bos,
      OptionalLong maxTokens) {}

  /** Analysis thresholds and what to compare. */
  public record AnalysisConfig(double activeFiringRate, double survivedAbove,
      double damagedBelow, List<List<String>> overlap, String predictorCondition, int folds,
      long seed, boolean nullRun) {
    public AnalysisConfig {
      overlap = overlap.stream().map(List::copyOf).toList();
    }
  }

  /** How executors run the model. Empty optionals mean "auto". */
  public record ExecutionSettings(int batchSize, String device, OptionalLong weightCacheBytes,
      OptionalInt windowsPerTask, OptionalInt threadsPerTask) {}

  /** Spark master for runs outside spark-submit, and extra Spark settings. */
  public record SparkSettings(String master, Map<String, String> conf) {
    public SparkSettings {
      conf = Map.copyOf(conf);
    }
  }
}
