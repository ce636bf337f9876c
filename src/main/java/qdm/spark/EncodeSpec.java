package qdm.spark;

import java.io.Serializable;
import java.util.Optional;
import qdm.config.AuditConfig;

/**
 * Everything an executor needs to encode windows for one condition: shipped with the task
 * closure, so it holds only strings and numbers.
 *
 * @param processing {@code none} or {@code transformerlens}, applied at load
 * @param compression the condition's compression in {@code --compress} syntax
 * @param codes true: emit SAE codes and NLL (chunk windows); false: NLL only (sliding windows)
 * @param localMaster whether Spark runs in local mode (device = gpu then means GPU 0)
 * @param threads libtorch intra-op threads per task (0: {@code spark.task.cpus})
 */
public record EncodeSpec(
    String modelDir,
    String weights,
    String dtype,
    String processing,
    String saePath,
    String saeFormat,
    String hook,
    String condition,
    String compression,
    boolean codes,
    String device,
    boolean localMaster,
    int batchSize,
    int threads,
    long weightCacheBytes)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The spec of {@code condition} under {@code config}. */
  public static EncodeSpec of(AuditConfig config, String condition, String compression,
      boolean codes, boolean localMaster, int threads, String resolvedHook) {
    return new EncodeSpec(
        Paths.local(config.model().path()),
        config.model().weights().map(Paths::local).orElse(""),
        config.model().dtype(),
        config.model().processing(),
        Paths.local(config.sae().path()),
        config.sae().format(),
        resolvedHook,
        condition,
        compression,
        codes,
        config.execution().device(),
        localMaster,
        config.execution().batchSize(),
        threads,
        config.execution().weightCacheBytes().orElse(0L));
  }

  /** The same spec for another compression (the probes of a matched search). */
  public EncodeSpec withCompression(String other) {
    return new EncodeSpec(modelDir, weights, dtype, processing, saePath, saeFormat, hook, condition, other,
        codes, device, localMaster, batchSize, threads, weightCacheBytes);
  }

  /** The same spec emitting NLL only (sliding windows, search probes). */
  public EncodeSpec nllOnly() {
    return new EncodeSpec(modelDir, weights, dtype, processing, saePath, saeFormat, hook, condition,
        compression, false, device, localMaster, batchSize, threads, weightCacheBytes);
  }

  /** The weights override, if any. */
  public Optional<String> weightsOverride() {
    return weights.isEmpty() ? Optional.empty() : Optional.of(weights);
  }
}
