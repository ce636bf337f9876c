package qdm.spark;

import java.io.Serializable;
import java.util.List;
import java.util.Optional;
import qdm.condition.Condition;
import qdm.config.AuditConfig;
import qdm.io.LocalPaths;

/**
 * Everything an executor needs to encode windows for one condition: shipped with the task closure,
 * so it holds only strings, numbers and the (serializable) condition.
 *
 * @param processing {@code none} or {@code transformerlens}, applied at load
 * @param condition the condition whose weights the pass uses (never a matched one unsearched)
 * @param localMaster whether Spark runs in local mode (device = gpu then means GPU 0)
 * @param threads libtorch intra-op threads per task (0: {@code spark.task.cpus})
 */
public record EncodeSpec(
    String modelDir,
    String weights,
    String dtype,
    String processing,
    List<SaeSpec> saes,
    Condition condition,
    String device,
    boolean localMaster,
    int batchSize,
    int threads,
    long weightCacheBytes)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public EncodeSpec {
    saes = List.copyOf(saes);
  }

  /**
   * One SAE as an executor loads it.
   *
   * @param name its name in the tables
   * @param hook its hook, resolved
   */
  public record SaeSpec(String name, String path, String format, String hook)
      implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** The SAEs of a preflight-checked config, in config order. */
  public static List<SaeSpec> saes(Preflight preflight) {
    return preflight.saes().stream()
        .map(
            s ->
                new SaeSpec(
                    s.name(),
                    LocalPaths.local(s.settings().path()),
                    s.settings().format(),
                    s.config().hook().toString()))
        .toList();
  }

  /** The spec of {@code condition} under {@code config}. */
  public static EncodeSpec of(
      AuditConfig config,
      Condition condition,
      boolean localMaster,
      int threads,
      List<SaeSpec> saes) {
    var model = config.modelFiles();
    return new EncodeSpec(
        model.dir().toString(),
        model.weightsOverride().map(Object::toString).orElse(""),
        config.model().dtype(),
        config.model().processing(),
        saes,
        condition,
        config.execution().device(),
        localMaster,
        config.execution().batchSize(),
        threads,
        config.execution().weightCacheBytes().orElse(0L));
  }

  /** The same spec for another condition (a matched one at a sparsity: the search's probes). */
  public EncodeSpec withCondition(Condition other) {
    return new EncodeSpec(
        modelDir,
        weights,
        dtype,
        processing,
        saes,
        other,
        device,
        localMaster,
        batchSize,
        threads,
        weightCacheBytes);
  }

  /** The weights override, if any. */
  public Optional<String> weightsOverride() {
    return weights.isEmpty() ? Optional.empty() : Optional.of(weights);
  }
}
