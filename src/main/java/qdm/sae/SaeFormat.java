package qdm.sae;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import qdm.QdmException;

/**
 * The file layouts QDM reads SAEs from, each with its loader; {@link #AUTO} picks one from the
 * files present.
 */
public enum SaeFormat {
  /** Decide from the files: see {@link #detect}. */
  AUTO,
  /** SAELens: {@code cfg.json} + {@code sae_weights.safetensors}. */
  SAELENS,
  /** Gemma Scope: {@code params.npz} (JumpReLU), layer and width in the path. */
  GEMMASCOPE,
  /** EleutherAI sparsify: {@code cfg.json} + {@code sae.safetensors} (TopK). */
  SPARSIFY;

  /** Parses {@code auto}, {@code saelens}, {@code gemmascope} or {@code sparsify}. */
  public static SaeFormat parse(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
    for (SaeFormat f : values()) {
      if (f.name().toLowerCase(Locale.ROOT).equals(n)) {
        return f;
      }
    }
    throw new QdmException("SAE format '" + name
        + "' is not one of auto, saelens, gemmascope, sparsify");
  }

  /** This format, or the detected one for {@link #AUTO}. */
  public SaeFormat resolve(Path path) {
    return this == AUTO ? detect(path) : this;
  }

  /**
   * The format of an SAE directory (or an {@code .npz} file): SAELens if it holds
   * {@code sae_weights.safetensors}, sparsify if it holds {@code sae.safetensors}, Gemma Scope if
   * it holds {@code params.npz}.
   */
  public static SaeFormat detect(Path path) {
    if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".npz")) {
      return GEMMASCOPE;
    }
    if (!Files.isDirectory(path)) {
      throw new QdmException(path + ": SAE directory not found");
    }
    if (Files.exists(path.resolve(SaeLensFormat.WEIGHTS))) {
      return SAELENS;
    }
    if (Files.exists(path.resolve(SparsifyFormat.WEIGHTS))) {
      return SPARSIFY;
    }
    if (Files.exists(path.resolve(GemmaScopeFormat.PARAMS))) {
      return GEMMASCOPE;
    }
    throw new QdmException(path + ": cannot tell the SAE format: expected "
        + SaeLensFormat.WEIGHTS + " + cfg.json (SAELens), " + GemmaScopeFormat.PARAMS
        + " (Gemma Scope) or " + SparsifyFormat.WEIGHTS + " + cfg.json (sparsify; pick the "
        + "hookpoint's subdirectory, e.g. layers.6)");
  }

  /** The loader of a concrete format. */
  SaeLoader loader() {
    return switch (this) {
      case SAELENS -> new SaeLensFormat();
      case GEMMASCOPE -> new GemmaScopeFormat();
      case SPARSIFY -> new SparsifyFormat();
      case AUTO -> throw new IllegalStateException("resolve AUTO first");
    };
  }
}
