package qdm.condition;

import java.util.List;
import qdm.QdmException;
import qdm.compress.Compressed;
import qdm.compress.Compression;
import qdm.compress.CompressionReport;
import qdm.io.LocalPaths;
import qdm.model.CheckpointFiles;
import qdm.model.Model;

/**
 * The one place a condition becomes weights, over a loaded reference: the reference's own tensors,
 * a simulated compression of them, or a checkpoint's dequantized tensors read with the reference's
 * config and processing. Executors, {@code drift}, {@code forward} and the matched search's probes
 * all come here.
 */
public final class ConditionWeights {
  private ConditionWeights() {}

  /**
   * The weights of {@code c}; close them when done (that frees only what was created for them,
   * never the reference's tensors). A checkpoint's report has no error statistics (measuring them
   * reads every tensor to the host): {@link #measured} has them.
   */
  public static Compressed derive(Condition c, ReferenceModel ref) {
    if (c instanceof Condition.Simulated s) {
      Compressed out;
      try {
        out = s.compression().apply(ref.model().weights());
      } catch (QdmException e) {
        throw new QdmException(s.name() + ": " + e.getMessage(), e);
      }
      return new Compressed(out.weights(), out.report().named(s.name()));
    }
    if (c instanceof Condition.Checkpoint k) {
      return new Compressed(load(k, ref).weights(), empty(k.name()));
    }
    if (c instanceof Condition.MatchedPruning m) {
      throw new IllegalStateException(
          m.name()
              + ": a matched condition has weights only at a "
              + "searched sparsity (MatchedPruning.at)");
    }
    // the reference: its own tensors, nothing to free
    return new Compressed(ref.model().weights().derive((name, manager) -> null), empty(c.name()));
  }

  private static CompressionReport empty(String name) {
    return new CompressionReport(name, List.of(), 0, 0, 0, 0, 0);
  }

  /** As {@link #derive}, a checkpoint's report measured against the reference's tensors. */
  public static Compressed measured(Condition c, ReferenceModel ref) {
    Compressed out = derive(c, ref);
    if (c.files().isEmpty()) {
      return out;
    }
    return new Compressed(
        out.weights(),
        CompressionReport.between(
            c.name(), ref.model().weights(), out.weights(), Compression.DEFAULT_TARGETS));
  }

  private static Model load(Condition.Checkpoint k, ReferenceModel ref) {
    return Model.load(
        CheckpointFiles.resolve(LocalPaths.local(k.path()), k.format(), ref.files()),
        ref.manager(),
        ref.placement().device(),
        ref.placement().dtype(),
        ref.processing());
  }
}
