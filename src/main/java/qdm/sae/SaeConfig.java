package qdm.sae;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import qdm.QdmException;
import qdm.model.HookPoint;
import qdm.model.ModelConfig;

/**
 * What QDM knows about an SAE before loading its weights, in one format-independent shape: read and
 * validated by the format's loader, so everything here already agrees with the tensor shapes in the
 * files.
 *
 * @param source the SAE directory or file
 * @param format the format it was read as (never {@link SaeFormat#AUTO})
 * @param architecture the activation rule, a key of {@link SaeArchitectures}
 * @param dIn input width (the model's hidden size)
 * @param dSae number of features
 * @param hook where the SAE reads the model
 * @param modelName the model the SAE was trained on, when the files say
 * @param applyBDecToInput subtract {@code b_dec} from the input before encoding
 * @param k features kept per token, for {@code topk} only
 * @param inputScale the activation scaling factor folded into the weights at load ({@code
 *     normalize_activations = expected_average_only_in}); 1 when there is none
 * @param input run-time input processing (normalization, one head's slice)
 */
public record SaeConfig(
    Path source,
    SaeFormat format,
    String architecture,
    int dIn,
    int dSae,
    HookPoint hook,
    Optional<String> modelName,
    boolean applyBDecToInput,
    OptionalInt k,
    double inputScale,
    SaeInput input) {

  public SaeConfig {
    if (format == SaeFormat.AUTO) {
      throw new IllegalArgumentException("a config is read as a concrete format");
    }
    SaeArchitectures.check(architecture, source);
    if (dIn <= 0 || dSae <= 0) {
      throw new QdmException(source + ": d_in " + dIn + " and d_sae " + dSae + " must be positive");
    }
    boolean topk = architecture.equals(SaeArchitectures.TOPK);
    if (topk && (k.isEmpty() || k.getAsInt() < 1 || k.getAsInt() > dSae)) {
      throw new QdmException(
          source
              + ": a topk SAE needs k in 1.."
              + dSae
              + ", got "
              + (k.isPresent() ? k.getAsInt() : "none"));
    }
    if (!topk && k.isPresent()) {
      throw new IllegalArgumentException("k is only meaningful for topk, not " + architecture);
    }
    if (!(inputScale > 0) || Double.isInfinite(inputScale)) {
      throw new QdmException(
          source
              + ": the activation scaling factor "
              + inputScale
              + " must be a positive finite number");
    }
  }

  /**
   * Checks, before any compute, that this SAE can read {@code model}: {@code d_in} equals the
   * hidden size, the hook's block exists, and the SAE was not trained on another model (compared
   * when both names are known, and by family against {@code model_type}). All problems are reported
   * in one {@link QdmException}.
   *
   * @param modelName the model's name, e.g. from {@link ModelName#of}, if known
   */
  public void checkCompatible(ModelConfig model, Optional<String> modelName) {
    List<String> problems = new ArrayList<>();
    int width =
        input.headIndex().isPresent() ? hook.width(model) / model.numHeads() : hook.width(model);
    if (input.headIndex().isPresent() && input.headIndex().getAsInt() >= model.numHeads()) {
      problems.add(
          "hook_head_index "
              + input.headIndex().getAsInt()
              + " is not a head of the "
              + "model ("
              + model.numHeads()
              + " heads)");
    }
    if (dIn != width) {
      problems.add(
          "the SAE reads "
              + dIn
              + "-dimensional activations (d_in) but the model's "
              + (input.headIndex().isPresent()
                  ? "head "
                      + input.headIndex().getAsInt()
                      + " at "
                      + hook
                      + " is "
                      + width
                      + " wide (d_head)"
                  : hook.site() == HookPoint.Site.ATTN_Z
                      ? "attention heads at " + hook + " are " + width + " wide (n_heads * d_head)"
                      : "residual stream is " + width + " wide (hidden_size)"));
    }
    try {
      hook.checkIn(model, "the model");
    } catch (QdmException e) {
      problems.add(e.getMessage().replaceFirst("^the model: ", ""));
    }
    if (this.modelName.isPresent()) {
      String saeModel = this.modelName.get();
      if (modelName.isPresent() && !ModelName.same(saeModel, modelName.get())) {
        problems.add(
            "the SAE was trained on '" + saeModel + "' but the model is '" + modelName.get() + "'");
      } else {
        Optional<String> family = ModelName.family(saeModel);
        if (family.isPresent() && !family.get().equals(model.modelType())) {
          problems.add(
              "the SAE was trained on '"
                  + saeModel
                  + "' (model_type "
                  + family.get()
                  + ") but the model's model_type is "
                  + model.modelType());
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new QdmException(
          source + ": this SAE does not fit the model:\n  " + String.join("\n  ", problems));
    }
  }

  /** Same as {@link #checkCompatible(ModelConfig, Optional)} without the model's name. */
  public void checkCompatible(ModelConfig model) {
    checkCompatible(model, Optional.empty());
  }
}
