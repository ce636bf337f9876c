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
import qdm.io.NpzFile;
import qdm.io.TensorInfo;
import qdm.model.HookPoint;

/**
 * Gemma Scope SAEs: one {@code params.npz} with {@code W_enc [d_in, d_sae]}, {@code W_dec}, {@code
 * b_enc}, {@code b_dec} and {@code threshold} (JumpReLU; some copies spell the weights {@code
 * w_enc}/{@code w_dec}). The input is encoded as is ({@code apply_b_dec_to_input} false, no
 * normalization).
 *
 * <p>Nothing in the file says where the SAE reads: Gemma Scope encodes it in the path, e.g. {@code
 * gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82/params.npz}: residual SAEs read {@code
 * blocks.12.hook_resid_post}; the width (16k = 16384) must match the tensors; the release names the
 * model ({@code 2b-pt} = gemma-2-2b, {@code 2b-it} = gemma-2-2b-it). A hook given explicitly
 * replaces a path without a layer. MLP and attention releases read sites QDM does not capture and
 * are refused.
 */
final class GemmaScopeFormat implements SaeLoader {
  static final String PARAMS = "params.npz";

  private static final Pattern LAYER = Pattern.compile("(?:^|/)layer_(\\d+)(?:/|$)");
  private static final Pattern WIDTH = Pattern.compile("(?:^|/)width_(\\d+)([km]?)(?:/|$)");
  private static final Pattern RELEASE = Pattern.compile("gemma-scope-(\\d+b)-(pt|it)-([a-z_]+)");

  @Override
  public SaeConfig readConfig(Path path, Optional<HookPoint> given) {
    Path file = params(path);
    String text = SaeFiles.pathText(file);
    Matcher release = RELEASE.matcher(text);
    Optional<String> modelName = Optional.empty();
    if (release.find()) {
      String site = release.group(3);
      if (!site.startsWith("res")) {
        throw new QdmException(
            file
                + ": this is a Gemma Scope '"
                + site
                + "' SAE (release "
                + release.group()
                + "); QDM reads residual-stream SAEs (gemma-scope-*-res)");
      }
      modelName =
          Optional.of("gemma-2-" + release.group(1) + (release.group(2).equals("it") ? "-it" : ""));
    }
    Optional<String> hookName =
        lastGroup(LAYER, text).map(layer -> "blocks." + layer + ".hook_resid_post");
    HookPoint hook = SaeFiles.hook(hookName, file + " (its layer_N folder)", given);

    try (NpzFile npz = NpzFile.open(file)) {
      String wEnc = name(npz.names().contains("w_enc"), "W_enc");
      String wDec = name(npz.names().contains("w_dec"), "W_dec");
      if (!npz.contains(wEnc)) {
        throw new QdmException(
            file
                + ": no W_enc array (arrays: "
                + String.join(", ", npz.names())
                + "); not a Gemma Scope SAE?");
      }
      TensorInfo enc = npz.info(wEnc);
      if (enc.shape().length != 2
          || enc.shape()[0] > Integer.MAX_VALUE
          || enc.shape()[1] > Integer.MAX_VALUE) {
        throw new QdmException(
            file + ": W_enc has shape " + enc.shapeString() + ", expected [d_in, d_sae]");
      }
      int dIn = (int) enc.shape()[0];
      int dSae = (int) enc.shape()[1];
      new SaeFiles.ShapeCheck(npz)
          .require(wEnc, dIn, dSae)
          .require(wDec, dSae, dIn)
          .require("b_enc", dSae)
          .require("b_dec", dIn)
          .require("threshold", dSae)
          .done("Gemma Scope SAE");
      Matcher width = WIDTH.matcher(text);
      Long pathWidth = null;
      while (width.find()) {
        pathWidth = width(Long.parseLong(width.group(1)), width.group(2));
      }
      if (pathWidth != null && pathWidth != dSae) {
        throw new QdmException(
            file + ": the path says width " + pathWidth + " but the SAE has " + dSae + " features");
      }
      return new SaeConfig(
          file,
          SaeFormat.GEMMASCOPE,
          SaeArchitectures.JUMPRELU,
          dIn,
          dSae,
          hook,
          modelName,
          false,
          OptionalInt.empty(),
          1.0,
          SaeInput.PLAIN);
    }
  }

  @Override
  public NpzFile open(SaeConfig config) {
    return NpzFile.open(config.source());
  }

  @Override
  public SaeTensors load(SaeConfig config, NDManager manager) {
    try (NpzFile npz = open(config)) {
      NDArray wEnc = SaeFiles.read(npz, name(npz.contains("w_enc"), "W_enc"), manager);
      NDArray wDec = SaeFiles.read(npz, name(npz.contains("w_dec"), "W_dec"), manager);
      return new SaeTensors(
          manager,
          wEnc,
          SaeFiles.read(npz, "b_enc", manager),
          wDec,
          SaeFiles.read(npz, "b_dec", manager),
          Optional.of(SaeFiles.read(npz, "threshold", manager)));
    }
  }

  /**
   * The number of features a {@code width_N[k|m]} folder names. Gemma Scope rounds powers of two to
   * thousands (16k = 16384, 65k = 65536, 1m = 1048576), so a suffixed width is the power of two
   * nearest to it; a bare number is exact.
   */
  static long width(long n, String suffix) {
    if (suffix.isEmpty()) {
      return n;
    }
    double approx = n * (suffix.equals("k") ? 1e3 : 1e6);
    return 1L << Math.round(Math.log(approx) / Math.log(2));
  }

  /** The params file: the path itself, or {@code params.npz} inside a directory. */
  private static Path params(Path path) {
    Path file = Files.isDirectory(path) ? path.resolve(PARAMS) : path;
    if (!Files.isRegularFile(file)) {
      throw new QdmException(file + ": no such file (a Gemma Scope SAE is a " + PARAMS + ")");
    }
    return file;
  }

  private static String name(boolean lowerCase, String canonical) {
    return lowerCase ? canonical.toLowerCase(java.util.Locale.ROOT) : canonical;
  }

  private static Optional<String> lastGroup(Pattern p, String text) {
    Matcher m = p.matcher(text);
    String last = null;
    while (m.find()) {
      last = m.group(1);
    }
    return Optional.ofNullable(last);
  }
}
