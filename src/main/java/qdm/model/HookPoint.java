package qdm.model;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import qdm.QdmException;

/**
 * Where in the model an SAE (or anything else) reads activations, as a TransformerLens hook name:
 * QDM's shared vocabulary for activation sites (configs, Parquet columns, reports), so results join
 * with SAELens and Neuronpedia.
 *
 * <p>Sites, as TransformerLens v2 defines them for block L: {@code hook_resid_pre} (the block's
 * input; L = 0 is the embedding output), {@code hook_resid_mid} (after attention, before the MLP:
 * sequential-residual models only), {@code hook_resid_post} (the block's output), {@code
 * hook_attn_out} and {@code hook_mlp_out} (what attention and the MLP add to the residual stream,
 * after Gemma-2's post-norms), and {@code attn.hook_z} (each head's attention output before the
 * output projection, [n_heads, d_head] flattened to n_heads * d_head as SAELens flattens it for
 * hook_z SAEs). So {@code resid_mid = resid_pre + attn_out}, {@code resid_post = resid_mid +
 * mlp_out} (parallel residual: {@code resid_pre + attn_out + mlp_out}) and {@code attn_out = z W_O
 * + b_O} (without post-norm).
 *
 * @param layer the L of the hook name
 */
public record HookPoint(int layer, Site site) {
  private static final Pattern NAME =
      Pattern.compile(
          "blocks\\.(\\d+)\\.(hook_resid_pre|hook_resid_mid|hook_resid_post|hook_attn_out"
              + "|hook_mlp_out|attn\\.hook_z)");

  /** A hook site inside (or at the edge of) a block. */
  public enum Site {
    RESID_PRE("hook_resid_pre"),
    RESID_MID("hook_resid_mid"),
    RESID_POST("hook_resid_post"),
    ATTN_OUT("hook_attn_out"),
    MLP_OUT("hook_mlp_out"),
    ATTN_Z("attn.hook_z");

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
  }

  /** {@code blocks.L.hook_resid_post}. */
  public static HookPoint residPost(int layer) {
    return new HookPoint(layer, Site.RESID_POST);
  }

  /** Parses a TransformerLens hook name; other sites fail with a message naming the name. */
  public static HookPoint parse(String name) {
    Matcher m = NAME.matcher(name.trim());
    if (!m.matches()) {
      throw new QdmException(
          "hook '"
              + name
              + "' is not supported: QDM reads blocks.L."
              + "hook_resid_pre, hook_resid_mid, hook_resid_post, hook_attn_out, hook_mlp_out or "
              + "attn.hook_z");
    }
    int layer;
    try {
      layer = Integer.parseInt(m.group(1));
    } catch (NumberFormatException e) {
      throw new QdmException("hook '" + name + "' has a layer number out of range");
    }
    for (Site s : Site.values()) {
      if (s.suffix().equals(m.group(2))) {
        return new HookPoint(layer, s);
      }
    }
    throw new IllegalStateException(name);
  }

  /** True for sites on the residual stream between blocks (a block's input or output). */
  public boolean betweenBlocks() {
    return site == Site.RESID_PRE || site == Site.RESID_POST;
  }

  /**
   * The last block the forward pass must run to produce this site: L for every site of block L, L -
   * 1 for {@code hook_resid_pre} (-1: the embedding output, no block at all).
   */
  public int block() {
    return site == Site.RESID_PRE ? layer - 1 : layer;
  }

  /** The width of this site's activations: d_model, or n_heads * d_head for hook_z. */
  public int width(ModelConfig model) {
    return site == Site.ATTN_Z ? model.attentionWidth() : model.hiddenSize();
  }

  /**
   * Checks the site exists in {@code model}: its block is one of the model's, and resid_mid is not
   * asked of a parallel-residual model (TransformerLens defines none there).
   */
  public void checkIn(ModelConfig model, String where) {
    int limit = site == Site.RESID_PRE ? model.numLayers() : model.numLayers() - 1;
    if (layer > limit) {
      throw new QdmException(
          where
              + ": hook "
              + this
              + " is beyond the model's "
              + model.numLayers()
              + " blocks (blocks.0 .. blocks."
              + (model.numLayers() - 1)
              + ")");
    }
    if (site == Site.RESID_MID && model.parallelResidual()) {
      throw new QdmException(
          where
              + ": hook "
              + this
              + " does not exist in a parallel-"
              + "residual model (attention and MLP both read hook_resid_pre); use hook_resid_pre, "
              + "hook_attn_out, hook_mlp_out or hook_resid_post");
    }
  }

  /** The TransformerLens name, e.g. {@code blocks.4.hook_resid_post}. */
  @Override
  public String toString() {
    return "blocks." + layer + "." + site.suffix();
  }
}
