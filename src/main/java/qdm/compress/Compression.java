package qdm.compress;

import java.io.Serializable;
import java.util.Set;
import qdm.model.TensorRole;
import qdm.model.Weights;

/**
 * A simulated compression method: a pure transform from a model's weights to weights of the same
 * layout, applied before the forward pass so that the forward pass never knows (docs/method.md,
 * "Compression methods").
 *
 * <p>A compression chooses its tensors by {@link TensorRole} ({@link #targets()}, by default the
 * linear weights of the decoder blocks), never by architecture-specific names. A tensor shared by
 * several names (tied embeddings) is one parameter: it is compressed once when any of its names has
 * a targeted role, and every name sees the result.
 *
 * <p>Each implementation declares its parameters in a {@link Method} ({@link #method()}) and gives
 * its values back as {@link Settings}: the condition grammar ({@code qdm.condition}) parses,
 * renders and names every compression from those two alone. Compressions are serializable values:
 * they travel to Spark executors inside their condition.
 */
public interface Compression extends Serializable {

  /** The paper's targets: the linear weights inside the decoder blocks. */
  Set<TensorRole> DEFAULT_TARGETS = Set.of(TensorRole.DECODER_LINEAR);

  /** The method and its declared parameters. */
  Method method();

  /** This compression's parameter values, one per {@link Method#params()} entry. */
  Settings settings();

  /** The roles of the tensors this compression rewrites. */
  Set<TensorRole> targets();

  /**
   * Compresses the target tensors of {@code base}. The result shares every other tensor with {@code
   * base}, which must stay open while the result is in use; closing the result frees only the
   * tensors it created. Invalid parameters for these weights (a group size that does not divide a
   * row, say) fail before anything is computed.
   */
  Compressed apply(Weights base);
}
