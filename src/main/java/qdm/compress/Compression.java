package qdm.compress;

import java.util.List;
import java.util.Set;
import qdm.model.TensorRole;
import qdm.model.Weights;

/**
 * A compression method: a pure transform from a model's weights to weights of the same layout,
 * applied before the forward pass so that the forward pass never knows (PAPER.md section 8).
 *
 * <p>A compression chooses its tensors by {@link TensorRole} ({@link #targets()}, by default the
 * linear weights of the decoder blocks), never by architecture-specific names. A tensor shared by
 * several names (tied embeddings) is one parameter: it is compressed once when any of its names
 * has a targeted role, and every name sees the result.
 *
 * <p>{@link #name()} is the canonical condition name ({@code fp}, {@code rtn4},
 * {@code rtn4-g128-asym}, {@code prune0.3-global}, {@code rtn8@decoder+embed}); {@link #parse}
 * reads the command-line syntax ({@code none}, {@code rtn:BITS[:gGROUP][:asym]},
 * {@code prune:FRACTION[:global]}, {@code nf4[:bBLOCK][:dq]}, each optionally with
 * {@code :targets=decoder+embed+head}).
 */
public sealed interface Compression permits Compression.None, Rtn, MagnitudePruning, Nf4 {

  /** The paper's targets: the linear weights inside the decoder blocks. */
  Set<TensorRole> DEFAULT_TARGETS = Set.of(TensorRole.DECODER_LINEAR);

  /** The roles of the tensors this compression rewrites. */
  Set<TensorRole> targets();

  /** The canonical condition name, stable across runs (used in tables and file names). */
  String name();

  /**
   * Compresses the target tensors of {@code base}. The result shares every other tensor with
   * {@code base}, which must stay open while the result is in use; closing the result frees only
   * the tensors it created. Invalid parameters for these weights (a group size that does not
   * divide a row, say) fail before anything is computed.
   */
  Compressed apply(Weights base);

  /** Parses the command-line syntax described in the type's documentation. */
  static Compression parse(String spec) {
    return CompressionSpec.parse(spec);
  }

  /** The identity: the full-precision condition, named {@code fp}. */
  record None() implements Compression {
    @Override
    public Set<TensorRole> targets() {
      return Set.of();
    }

    @Override
    public String name() {
      return "fp";
    }

    @Override
    public Compressed apply(Weights base) {
      return new Compressed(base.derive((name, manager) -> null),
          new CompressionReport(name(), List.of(), 0, 0, 0, 0, 0));
    }
  }
}
