package qdm.sae;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import qdm.QdmException;

/**
 * Where in the model an SAE reads its input, as a TransformerLens hook name: QDM's shared
 * vocabulary for activation sites (configs, Parquet columns, reports), so results join with
 * SAELens and Neuronpedia.
 *
 * <p>Two sites are supported, both on the residual stream: {@code blocks.L.hook_resid_post} (the
 * raw output of decoder block L) and {@code blocks.L.hook_resid_pre} for L &ge; 1 (the input of
 * block L, which is the output of block L - 1). {@code blocks.0.hook_resid_pre} (the embedding
 * output) and other sites (MLP, attention) are rejected with a message.
 *
 * @param layer the L of the hook name
 */
public record HookPoint(int layer, Site site) {
  private static final Pattern NAME =
      Pattern.compile("blocks\\.(\\d+)\\.(hook_resid_(?:pre|post))");

  /** A residual-stream hook site. */
  public enum Site {
    RESID_PRE("hook_resid_pre"),
    RESID_POST("hook_resid_post");

    private final String suffix;

    Site(String suffix) {
      this.suffix = suffix;
    }

    /** The last part of the hook name. */
    public String suffix() {
      return suffix;
    }
  }

  public HookPoint {
    if (layer < 0) {
      throw new IllegalArgumentException("hook layer " + layer + " is negative");
    }
    if (site == Site.RESID_PRE && layer == 0) {
      throw new QdmException("hook blocks.0.hook_resid_pre (the embedding output) is not "
          + "supported; QDM captures block outputs (blocks.L.hook_resid_post)");
    }
  }

  /** {@code blocks.L.hook_resid_post}. */
  public static HookPoint residPost(int layer) {
    return new HookPoint(layer, Site.RESID_POST);
  }

  /** Parses a TransformerLens hook name; other sites fail with a message naming the name. */
  public static HookPoint parse(String name) {
    Matcher m = NAME.matcher(name.trim());
    if (!m.matches()) {
      throw new QdmException("hook '" + name + "' is not supported: QDM reads the residual "
          + "stream, blocks.L.hook_resid_post (or blocks.L.hook_resid_pre for L >= 1)");
    }
    int layer;
    try {
      layer = Integer.parseInt(m.group(1));
    } catch (NumberFormatException e) {
      throw new QdmException("hook '" + name + "' has a layer number out of range");
    }
    Site site = m.group(2).equals(Site.RESID_PRE.suffix()) ? Site.RESID_PRE : Site.RESID_POST;
    return new HookPoint(layer, site);
  }

  /**
   * The decoder block whose output the SAE reads: L for {@code hook_resid_post}, L - 1 for
   * {@code hook_resid_pre}. This is the layer to pass to {@code Capture.residualAt}.
   */
  public int block() {
    return site == Site.RESID_POST ? layer : layer - 1;
  }

  /** The TransformerLens name, e.g. {@code blocks.4.hook_resid_post}. */
  @Override
  public String toString() {
    return "blocks." + layer + "." + site.suffix();
  }
}
