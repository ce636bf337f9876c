package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import qdm.QdmException;
import qdm.io.SafetensorsFile;
import qdm.model.HookPoint;
import qdm.model.JsonFields;

/**
 * Llama Scope (OpenMOSS, {@code fnlp/Llama3_1-8B-Base-LX...}) SAE folders: {@code hyperparams.json}
 * ({@code d_model}, {@code d_sae}, {@code hook_point_in}, {@code jump_relu_threshold}, {@code
 * dataset_average_activation_norm.in}) and {@code checkpoints/final.safetensors} ({@code
 * encoder.weight} [d_sae, d_in], {@code encoder.bias}, {@code decoder.weight} [d_in, d_sae], {@code
 * decoder.bias}).
 *
 * <p>Read as SAELens converts them: a JumpReLU SAE with one threshold for every feature, no {@code
 * b_dec} subtracted from the input, and the dataset-wise input normalization {@code x * sqrt(d_in)
 * / average_norm_in} folded into the weights; SAELens scales the stored threshold by that same
 * factor, and so does QDM.
 */
final class LlamaScopeFormat implements SaeLoader {
  static final String CONFIG = "hyperparams.json";
  static final String WEIGHTS = "checkpoints/final.safetensors";

  @Override
  public SaeConfig readConfig(Path dir, Optional<HookPoint> given) {
    Path cfgPath = dir.resolve(CONFIG);
    JsonFields cfg = JsonFields.read(cfgPath);
    int dIn = cfg.integer("d_model");
    int dSae = cfg.integer("d_sae");
    HookPoint hook =
        SaeFiles.hook(Optional.of(cfg.string("hook_point_in")), cfgPath.toString(), given);
    double threshold = cfg.number("jump_relu_threshold");
    double averageNorm = cfg.object("dataset_average_activation_norm").number("in");
    if (!(averageNorm > 0)) {
      throw cfg.invalid("dataset_average_activation_norm", "a positive 'in' norm");
    }
    double scale = Math.sqrt(dIn) / averageNorm;
    try (SafetensorsFile st = open(dir)) {
      new SaeFiles.ShapeCheck(st)
          .require("encoder.weight", dSae, dIn)
          .require("encoder.bias", dSae)
          .require("decoder.weight", dIn, dSae)
          .require("decoder.bias", dIn)
          .done("Llama Scope SAE");
    }
    if (!(threshold >= 0) || Double.isInfinite(threshold)) {
      throw cfg.invalid("jump_relu_threshold", "a finite non-negative number");
    }
    return new SaeConfig(
        dir,
        SaeFormat.LLAMASCOPE,
        SaeArchitectures.JUMPRELU,
        dIn,
        dSae,
        hook,
        cfg.has("model_name") ? Optional.of(cfg.string("model_name")) : Optional.empty(),
        false,
        OptionalInt.empty(),
        scale,
        SaeInput.PLAIN);
  }

  private static SafetensorsFile open(Path dir) {
    Path weights = dir.resolve(WEIGHTS);
    if (!Files.isRegularFile(weights)) {
      throw new QdmException(
          weights
              + ": no such file (a Llama Scope SAE folder has "
              + CONFIG
              + " and "
              + WEIGHTS
              + ")");
    }
    return SafetensorsFile.open(weights);
  }

  @Override
  public SafetensorsFile open(SaeConfig config) {
    return open(config.source());
  }

  @Override
  public SaeTensors load(SaeConfig config, NDManager manager) {
    JsonFields cfg = JsonFields.read(config.source().resolve(CONFIG));
    try (SafetensorsFile st = open(config)) {
      NDArray encoder = SaeFiles.read(st, "encoder.weight", manager);
      NDArray decoder = SaeFiles.read(st, "decoder.weight", manager);
      NDArray wEnc = encoder.transpose(); // [d_in, d_sae]
      NDArray wDec = decoder.transpose(); // [d_sae, d_in]
      float threshold = (float) (cfg.number("jump_relu_threshold") * config.inputScale());
      NDArray thresholds = manager.full(new ai.djl.ndarray.types.Shape(config.dSae()), threshold);
      return Normalization.fold(
          new SaeTensors(
              manager,
              wEnc,
              SaeFiles.read(st, "encoder.bias", manager),
              wDec,
              SaeFiles.read(st, "decoder.bias", manager),
              Optional.of(thresholds)),
          config.inputScale());
    }
  }
}
