package qdm.sae;

import java.util.OptionalInt;

/**
 * What an SAE does to its input before the encoder, beyond a constant scale (which is folded into
 * the weights, {@link SaeConfig#inputScale()}): SAELens's run-time {@code normalize_activations}
 * and {@code hook_head_index}.
 *
 * @param normalization {@code none}; {@code constant_norm_rescale}: each token scaled to norm
 *     sqrt(d_in); {@code layer_norm}: each token minus its mean, divided by its (unbiased) standard
 *     deviation plus 1e-5
 * @param headIndex for an SAE on one attention head of a per-head site ({@code attn.hook_z}): the
 *     head whose d_head slice of the flattened site it reads
 */
public record SaeInput(String normalization, OptionalInt headIndex) {
  public static final String NONE = "none";
  public static final String CONSTANT_NORM_RESCALE = "constant_norm_rescale";
  public static final String LAYER_NORM = "layer_norm";

  /** The input as captured. */
  public static final SaeInput PLAIN = new SaeInput(NONE, OptionalInt.empty());

  public SaeInput {
    if (!normalization.equals(NONE)
        && !normalization.equals(CONSTANT_NORM_RESCALE)
        && !normalization.equals(LAYER_NORM)) {
      throw new IllegalArgumentException("normalization " + normalization);
    }
  }
}
