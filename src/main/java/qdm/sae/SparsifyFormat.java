package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import qdm.QdmException;
import qdm.io.SafetensorsFile;
import qdm.io.TensorInfo;
import qdm.model.HookPoint;
import qdm.model.JsonFields;

/**
 * EleutherAI sparsify (formerly {@code sae}) directories, one per hookpoint: {@code cfg.json}
 * ({@code k}, {@code num_latents} or {@code expansion_factor}, usually {@code d_in}) and {@code
 * sae.safetensors} with {@code encoder.weight [num_latents, d_in]} (a torch Linear, so the
 * transpose of W_enc), {@code encoder.bias}, {@code W_dec [num_latents, d_in]} and {@code b_dec}.
 *
 * <p>sparsify encodes {@code x - b_dec} and keeps the k largest ReLU'd pre-activations (TopK);
 * missing keys take sparsify's defaults ({@code k} 32, {@code expansion_factor} 32). The hook is
 * the directory name: {@code layers.6} is the output of decoder block 6, i.e. {@code
 * blocks.6.hook_resid_post}. Transcoders, skip connections and the {@code groupmax} activation
 * change what the codes mean and are refused.
 */
final class SparsifyFormat implements SaeLoader {
  static final String CONFIG = "cfg.json";
  static final String WEIGHTS = "sae.safetensors";

  private static final Pattern LAYER_DIR = Pattern.compile("(?:.*\\.)?(?:layers|h)\\.(\\d+)");
  private static final String[] REFUSED = {
    "transcode", "skip_connection", "embed_skip", "gram_lookup", "signed"
  };

  @Override
  public SaeConfig readConfig(Path dir, Optional<HookPoint> given) {
    if (!Files.isDirectory(dir)) {
      throw new QdmException(dir + ": SAE directory not found");
    }
    JsonFields cfg = JsonFields.read(dir.resolve(CONFIG));
    String activation = cfg.string("activation", "topk");
    if (!activation.equals("topk")) {
      throw new QdmException(
          cfg.file() + ": activation '" + activation + "' is not supported (expected topk)");
    }
    for (String key : REFUSED) {
      if (cfg.bool(key, false)) {
        throw new QdmException(
            cfg.file()
                + ": "
                + key
                + " true is not supported (QDM encodes "
                + "plain sparse autoencoders)");
      }
    }
    int k = cfg.integer("k", 32);

    Path weights = dir.resolve(WEIGHTS);
    try (SafetensorsFile st = SafetensorsFile.open(weights)) {
      if (!st.contains("encoder.weight")) {
        throw new QdmException(weights + ": no tensor 'encoder.weight'; not a sparsify SAE?");
      }
      TensorInfo enc = st.info("encoder.weight");
      if (enc.shape().length != 2) {
        throw new QdmException(
            weights
                + ": encoder.weight has shape "
                + enc.shapeString()
                + ", expected [num_latents, d_in]");
      }
      int dIn = cfg.has("d_in") ? cfg.integer("d_in") : Math.toIntExact(enc.shape()[1]);
      int latents = cfg.integer("num_latents", 0);
      int dSae =
          latents > 0 ? latents : Math.multiplyExact(dIn, cfg.integer("expansion_factor", 32));
      new SaeFiles.ShapeCheck(st)
          .require("encoder.weight", dSae, dIn)
          .require("encoder.bias", dSae)
          .require("W_dec", dSae, dIn)
          .require("b_dec", dIn)
          .done("sparsify SAE (d_in " + dIn + ", " + dSae + " latents per " + CONFIG + ")");

      Matcher layer = LAYER_DIR.matcher(dir.toAbsolutePath().normalize().getFileName().toString());
      Optional<String> hookName =
          layer.matches()
              ? Optional.of("blocks." + layer.group(1) + ".hook_resid_post")
              : Optional.empty();
      HookPoint hook = SaeFiles.hook(hookName, dir + " (its hookpoint directory name)", given);
      return new SaeConfig(
          dir,
          SaeFormat.SPARSIFY,
          SaeArchitectures.TOPK,
          dIn,
          dSae,
          hook,
          Optional.empty(),
          true,
          OptionalInt.of(k),
          1.0,
          SaeInput.PLAIN);
    }
  }

  @Override
  public SafetensorsFile open(SaeConfig config) {
    return SafetensorsFile.open(config.source().resolve(WEIGHTS));
  }

  @Override
  public SaeTensors load(SaeConfig config, NDManager manager) {
    try (SafetensorsFile st = open(config)) {
      NDArray encoder = SaeFiles.read(st, "encoder.weight", manager);
      NDArray wEnc = encoder.transpose(); // a view [d_in, d_sae] sharing the storage
      encoder.close();
      return new SaeTensors(
          manager,
          wEnc,
          SaeFiles.read(st, "encoder.bias", manager),
          SaeFiles.read(st, "W_dec", manager),
          SaeFiles.read(st, "b_dec", manager),
          Optional.empty());
    }
  }
}
