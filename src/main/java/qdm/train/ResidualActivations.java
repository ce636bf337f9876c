package qdm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import qdm.QdmException;
import qdm.data.Window;
import qdm.data.Windowing;
import qdm.io.HostTensor;
import qdm.model.Capture;
import qdm.model.Transformer;

/**
 * The residual stream of a model at one hook, over a token stream cut into non-overlapping windows
 * (as the audit feeds the model), gathered on the Java heap as rows [tokens, d_model].
 */
public final class ResidualActivations {
  private static final Pattern RESID_POST = Pattern.compile("blocks\\.(\\d+)\\.hook_resid_post");

  private ResidualActivations() {}

  /** The block index of a {@code blocks.L.hook_resid_post} hook name; other hooks fail. */
  public static int layerOf(String hook, int numLayers) {
    Matcher m = RESID_POST.matcher(hook);
    if (!m.matches()) {
      throw new QdmException(
          "hook '" + hook + "' is not supported; expected " + "blocks.L.hook_resid_post");
    }
    int layer = Integer.parseInt(m.group(1));
    if (layer >= numLayers) {
      throw new QdmException(
          "hook '"
              + hook
              + "' names block "
              + layer
              + ", but the model has "
              + numLayers
              + " blocks (0.."
              + (numLayers - 1)
              + ")");
    }
    return layer;
  }

  /**
   * The residual after block {@code layer} for the first {@code maxTokens} tokens of the stream's
   * whole windows of {@code context} tokens, {@code batch} windows per forward pass.
   */
  public static HostTensor collect(
      Transformer model, int[] stream, int layer, int context, long maxTokens, int batch) {
    List<Window> windows = Windowing.chunks(stream, context);
    int count = (int) Math.min(windows.size(), Math.max(1, maxTokens / context));
    if (windows.isEmpty()) {
      throw new QdmException(
          "the text has " + stream.length + " tokens, fewer than one window " + "of " + context);
    }
    int d = model.config().hiddenSize();
    long rows = (long) count * context;
    if (rows * d > Integer.MAX_VALUE - 8) {
      throw new QdmException(
          rows
              + " activation rows of width "
              + d
              + " do not fit one Java "
              + "array; lower the token budget");
    }
    float[] out = new float[(int) (rows * d)];
    int offset = 0;
    for (int first = 0; first < count; first += batch) {
      int n = Math.min(batch, count - first);
      long[] ids = new long[n * context];
      for (int b = 0; b < n; b++) {
        int[] tokens = windows.get(first + b).tokens();
        for (int t = 0; t < context; t++) {
          ids[b * context + t] = tokens[t];
        }
      }
      try (NDManager scratch = model.weights().manager().newSubManager()) {
        NDArray x = scratch.create(ids, new Shape(n, context));
        float[] resid = model.forward(x, Capture.residualAt(layer)).residPost(layer).toFloatArray();
        System.arraycopy(resid, 0, out, offset, resid.length);
        offset += resid.length;
      }
    }
    return new HostTensor(new long[] {rows, d}, out);
  }
}
