package qdm.model;

import java.util.Locale;
import qdm.QdmException;

/**
 * What is done to a model's weights when it is loaded, before any compression.
 *
 * <p>{@link #NONE}: the checkpoint as Hugging Face transformers runs it. {@link #TRANSFORMERLENS}:
 * what TransformerLens v2's {@code HookedTransformer.from_pretrained} does to the weights of that
 * architecture (folding the norms' weights and biases into the next linear layers, centring the
 * weights that read from and write to the residual stream, centring the unembedding, folding the
 * value biases into the output bias), so the residual stream, and with it an SAE trained on a
 * TransformerLens model, is the one the SAE saw. The result is an ordinary set of weights of the
 * same architecture (norms become identities), so the forward pass never branches on it.
 */
public enum Processing {
  NONE,
  TRANSFORMERLENS;

  /** {@code none} or {@code transformerlens}. */
  public static Processing parse(String s) {
    return switch (s.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "")) {
      case "none" -> NONE;
      case "transformerlens", "tl" -> TRANSFORMERLENS;
      default ->
          throw new QdmException(
              "processing '"
                  + s
                  + "' is not one of "
                  + String.join(
                      ", ", java.util.Arrays.stream(values()).map(Processing::toString).toList()));
    };
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
