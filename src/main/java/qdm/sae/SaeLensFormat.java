package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import qdm.QdmException;
import qdm.io.SafetensorsFile;
import qdm.model.HookPoint;
import qdm.model.JsonFields;

/**
 * SAELens directories: {@code cfg.json} and {@code sae_weights.safetensors} holding {@code W_enc
 * [d_in, d_sae]}, {@code b_enc}, {@code W_dec [d_sae, d_in]}, {@code b_dec} and, for JumpReLU,
 * {@code threshold}.
 *
 * <p>Two config layouts exist. SAELens 6 nests the model-side facts in a {@code metadata} (early
 * 6.x: {@code meta}) object: {@code hook_name}, {@code model_name}; the activation rule is {@code
 * architecture} ({@code standard}, {@code jumprelu}, {@code topk} with {@code k}). Older versions
 * are flat: {@code hook_point} or {@code hook_name}, {@code model_name}, {@code architecture}
 * (default {@code standard}) and {@code activation_fn_str} ({@code relu}, or {@code topk} with
 * {@code activation_fn_kwargs.k}). Defaults follow SAELens: {@code apply_b_dec_to_input} true,
 * {@code normalize_activations} none.
 *
 * <p>{@code normalize_activations = expected_average_only_in} means the SAE was trained on
 * activations multiplied by a constant s (chosen so their mean norm is sqrt(d_in)). SAELens folds s
 * into the weights (W_enc * s, W_dec / s, b_dec / s) when it finishes training and then writes
 * {@code none}; an unfolded SAE has s in {@code activation_scaler.json} ({@code scaling_factor},
 * written next to SAELens training checkpoints) or, as in SAELens' pretrained directory, a {@code
 * norm_scaling_factor} key. QDM folds s the same way at load and refuses an unfolded SAE without s.
 * A legacy {@code scaling_factor} tensor (the fine-tuning scale applied to feature activations
 * before decoding) is folded into the rows of W_dec. Settings QDM cannot honour ({@code
 * constant_norm_rescale}, {@code layer_norm}, {@code hook_z} reshaping, head indices, {@code
 * rescale_acts_by_decoder_norm}) fail with a message.
 */
final class SaeLensFormat implements SaeLoader {
  static final String CONFIG = "cfg.json";
  static final String WEIGHTS = "sae_weights.safetensors";
  static final String SCALER = "activation_scaler.json";
  private static final String FINETUNING_SCALE = "scaling_factor";

  @Override
  public SaeConfig readConfig(Path dir, Optional<HookPoint> given) {
    Path cfgPath = dir.resolve(CONFIG);
    if (!Files.isDirectory(dir)) {
      throw new QdmException(dir + ": SAE directory not found");
    }
    JsonFields cfg = JsonFields.read(cfgPath);
    JsonFields meta =
        cfg.has("metadata") ? cfg.object("metadata") : cfg.has("meta") ? cfg.object("meta") : cfg;

    Optional<String> hookName = first(meta, cfg, "hook_name", "hook_point");
    HookPoint hook = SaeFiles.hook(hookName, cfgPath.toString(), given);
    OptionalInt headIndex = OptionalInt.empty();
    for (JsonFields where : new JsonFields[] {meta, cfg}) {
      for (String key : new String[] {"hook_head_index", "hook_point_head_index"}) {
        if (where.has(key) && headIndex.isEmpty()) {
          headIndex = OptionalInt.of(where.integer(key));
          if (hook.site() != HookPoint.Site.ATTN_Z) {
            throw new QdmException(
                cfgPath
                    + ": key '"
                    + key
                    + "' is "
                    + headIndex.getAsInt()
                    + " but the hook "
                    + hook
                    + " has no heads (a head index applies to "
                    + "blocks.L.attn.hook_z)");
          }
        }
      }
    }
    String reshape = cfg.string("reshape_activations", "none");
    if (!reshape.equals("none")
        && !(reshape.equals("hook_z") && hook.site() == HookPoint.Site.ATTN_Z)) {
      throw new QdmException(
          cfgPath
              + ": reshape_activations '"
              + reshape
              + "' is not "
              + "supported at "
              + hook
              + " (expected none, or hook_z for an attn.hook_z SAE)");
    }
    if (cfg.bool("rescale_acts_by_decoder_norm", false)) {
      throw new QdmException(cfgPath + ": rescale_acts_by_decoder_norm true is not supported");
    }

    String architecture = cfg.string("architecture", "standard");
    String activationFn =
        cfg.has("activation_fn_str")
            ? cfg.string("activation_fn_str")
            : cfg.string("activation_fn", "relu");
    OptionalInt k = OptionalInt.empty();
    if (architecture.equals("topk")
        || architecture.equals("standard") && activationFn.equals("topk")) {
      architecture = SaeArchitectures.TOPK;
      k =
          OptionalInt.of(
              cfg.has("k") ? cfg.integer("k") : cfg.object("activation_fn_kwargs").integer("k"));
    } else if (architecture.equals(SaeArchitectures.GATED) && !activationFn.equals("relu")) {
      throw new QdmException(
          cfgPath
              + ": a gated SAE's magnitude activation must be relu, got '"
              + activationFn
              + "'");
    } else if (!activationFn.equals("relu")) {
      throw new QdmException(
          cfgPath
              + ": activation_fn '"
              + activationFn
              + "' with architecture '"
              + architecture
              + "' is not supported (expected relu, or topk)");
    }
    SaeArchitectures.check(architecture, cfgPath);

    int dIn = cfg.integer("d_in");
    int dSae = cfg.integer("d_sae");
    String mode = normalizeMode(cfg);
    double scale =
        mode.equals(SaeInput.CONSTANT_NORM_RESCALE) || mode.equals(SaeInput.LAYER_NORM)
            ? 1.0
            : inputScale(dir, cfg);
    SaeInput input =
        new SaeInput(
            mode.equals(SaeInput.CONSTANT_NORM_RESCALE) || mode.equals(SaeInput.LAYER_NORM)
                ? mode
                : SaeInput.NONE,
            headIndex);
    if (!(Double.isFinite(scale) && scale > 0)) {
      // folded into W_enc and W_dec, a NaN or zero factor would silently zero or NaN every code
      throw new QdmException(
          dir
              + ": the activation scaling factor ("
              + SCALER
              + " scaling_factor or "
              + CONFIG
              + " norm_scaling_factor) is "
              + scale
              + "; expected a finite positive number");
    }
    Optional<String> modelName = first(meta, cfg, "model_name");
    SaeConfig config =
        new SaeConfig(
            dir,
            SaeFormat.SAELENS,
            architecture,
            dIn,
            dSae,
            hook,
            modelName,
            cfg.bool("apply_b_dec_to_input", true),
            k,
            scale,
            input);
    try (SafetensorsFile st = SafetensorsFile.open(dir.resolve(WEIGHTS))) {
      SaeFiles.ShapeCheck check =
          new SaeFiles.ShapeCheck(st)
              .require("W_enc", dIn, dSae)
              .require("W_dec", dSae, dIn)
              .require("b_dec", dIn)
              .optional(FINETUNING_SCALE, dSae);
      if (architecture.equals(SaeArchitectures.GATED)) {
        check.require("b_gate", dSae).require("r_mag", dSae).require("b_mag", dSae);
      } else {
        check.require("b_enc", dSae);
      }
      if (architecture.equals(SaeArchitectures.JUMPRELU)) {
        check.require("threshold", dSae);
      }
      check.done(architecture + " SAELens SAE");
      if (st.contains(FINETUNING_SCALE) && !cfg.bool("finetuning_scaling_factor", false)) {
        for (float v : st.readFloats(FINETUNING_SCALE)) {
          if (v != 1f) {
            // SAELens refuses this combination too: the file disagrees with its config
            throw new QdmException(
                dir.resolve(WEIGHTS)
                    + ": tensor '"
                    + FINETUNING_SCALE
                    + "' is not all ones but "
                    + CONFIG
                    + " has no finetuning_scaling_factor true");
          }
        }
      }
    }
    return config;
  }

  /** The first of {@code keys} present in the metadata object, else at the top level. */
  private static Optional<String> first(JsonFields meta, JsonFields cfg, String... keys) {
    for (JsonFields where : new JsonFields[] {meta, cfg}) {
      for (String key : keys) {
        if (where.has(key)) {
          return Optional.of(where.string(key));
        }
      }
    }
    return Optional.empty();
  }

  /**
   * The activation scaling factor to fold: 1 for {@code none}; for {@code expected_average_only_in}
   * the factor from {@code activation_scaler.json} or the {@code norm_scaling_factor} key.
   */
  private static double inputScale(Path dir, JsonFields cfg) {
    Path cfgPath = cfg.file();
    String mode = normalizeMode(cfg);
    Optional<Double> scaler = scalerFile(dir.resolve(SCALER));
    switch (mode) {
      case "none" -> {
        if (scaler.isPresent()) {
          throw new QdmException(
              cfgPath
                  + ": normalize_activations is none but "
                  + SCALER
                  + " holds scaling_factor "
                  + scaler.get()
                  + "; it is unclear whether the weights "
                  + "are already scaled. Remove one of the two.");
        }
        return 1.0;
      }
      case "expected_average_only_in" -> {
        if (scaler.isPresent()) {
          return scaler.get();
        }
        if (cfg.has("norm_scaling_factor")) {
          return cfg.number("norm_scaling_factor");
        }
        throw new QdmException(
            cfgPath
                + ": normalize_activations is expected_average_only_in "
                + "but no scaling factor was found: expected "
                + dir.resolve(SCALER)
                + " with a numeric scaling_factor, or a norm_scaling_factor key in "
                + CONFIG);
      }
      default ->
          throw new QdmException(
              cfgPath
                  + ": normalize_activations '"
                  + mode
                  + "' is not supported (supported: none, expected_average_only_in, "
                  + "constant_norm_rescale, layer_norm)");
    }
  }

  /** The normalization mode; old configs write a boolean (true = expected_average_only_in). */
  private static String normalizeMode(JsonFields cfg) {
    if (!cfg.has("normalize_activations")) {
      return "none";
    }
    JsonElement v = cfg.json().get("normalize_activations");
    if (v.isJsonPrimitive() && ((JsonPrimitive) v).isBoolean()) {
      return v.getAsBoolean() ? "expected_average_only_in" : "none";
    }
    return cfg.string("normalize_activations");
  }

  /** {@code scaling_factor} of an {@code activation_scaler.json}, if the file has a number. */
  private static Optional<Double> scalerFile(Path file) {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    JsonFields scaler = JsonFields.read(file);
    return scaler.has("scaling_factor")
        ? Optional.of(scaler.number("scaling_factor"))
        : Optional.empty();
  }

  @Override
  public SafetensorsFile open(SaeConfig config) {
    return SafetensorsFile.open(config.source().resolve(WEIGHTS));
  }

  @Override
  public SaeTensors load(SaeConfig config, NDManager manager) {
    try (SafetensorsFile st = open(config)) {
      NDArray wEnc = SaeFiles.read(st, "W_enc", manager);
      boolean gated = config.architecture().equals(SaeArchitectures.GATED);
      NDArray bEnc = SaeFiles.read(st, gated ? "b_gate" : "b_enc", manager);
      java.util.Map<String, NDArray> extras =
          gated
              ? java.util.Map.of(
                  "r_mag", SaeFiles.read(st, "r_mag", manager),
                  "b_mag", SaeFiles.read(st, "b_mag", manager))
              : java.util.Map.of();
      NDArray wDec = SaeFiles.read(st, "W_dec", manager);
      NDArray bDec = SaeFiles.read(st, "b_dec", manager);
      Optional<NDArray> threshold =
          config.architecture().equals(SaeArchitectures.JUMPRELU)
              ? Optional.of(SaeFiles.read(st, "threshold", manager))
              : Optional.empty();
      if (st.contains(FINETUNING_SCALE)) {
        // decode computes (acts * scale) @ W_dec: scale the rows of W_dec instead
        NDArray scale = SaeFiles.read(st, FINETUNING_SCALE, manager);
        NDArray scaled = wDec.mul(scale.reshape(-1, 1));
        wDec.close();
        scale.close();
        wDec = scaled;
      }
      return Normalization.fold(
          new SaeTensors(manager, wEnc, bEnc, wDec, bDec, threshold, extras), config.inputScale());
    }
  }
}
