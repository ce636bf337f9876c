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
  SPARSIFY,
  /** Llama Scope: {@code hyperparams.json} + {@code checkpoints/final.safetensors} (JumpReLU). */
  LLAMASCOPE;

  /** Parses a format's name in any case, {@code -} and {@code _} ignored. */
  public static SaeFormat parse(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
    for (SaeFormat f : values()) {
      if (f.name().toLowerCase(Locale.ROOT).equals(n)) {
        return f;
      }
    }
    throw new QdmException(
        "SAE format '"
            + name
            + "' is not one of "
            + String.join(
                ", ",
                java.util.Arrays.stream(values())
                    .map(f -> f.name().toLowerCase(Locale.ROOT))
                    .toList()));
  }

  /** This format, or the detected one for {@link #AUTO}. */
  public SaeFormat resolve(Path path) {
    return this == AUTO ? detect(path) : this;
  }

  /**
   * The format of an SAE directory (or an {@code .npz} file): SAELens if it holds {@code
   * sae_weights.safetensors}, sparsify if it holds {@code sae.safetensors}, Gemma Scope if it holds
   * {@code params.npz}.
   */
  public static SaeFormat detect(Path path) {
    if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".npz")) {
      return GEMMASCOPE;
    }
    if (Files.isRegularFile(path) && isPickle(path)) {
      throw pickle(path);
    }
    if (!Files.isDirectory(path)) {
      throw new QdmException(path + ": SAE directory not found");
    }
    if (Files.exists(path.resolve(LlamaScopeFormat.CONFIG))) {
      return LLAMASCOPE;
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
    try (var files = Files.list(path)) {
      java.util.Optional<Path> pickled = files.filter(SaeFormat::isPickle).findFirst();
      if (pickled.isPresent()) {
        throw pickle(pickled.get());
      }
    } catch (java.io.IOException e) {
      throw new QdmException(path + ": cannot list the SAE directory: " + e.getMessage());
    }
    throw new QdmException(
        path
            + ": cannot tell the SAE format: expected "
            + SaeLensFormat.WEIGHTS
            + " + cfg.json (SAELens), "
            + GemmaScopeFormat.PARAMS
            + " (Gemma Scope) or "
            + SparsifyFormat.WEIGHTS
            + " + cfg.json (sparsify; pick the "
            + "hookpoint's subdirectory, e.g. layers.6)");
  }

  private static boolean isPickle(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".pt") || n.endsWith(".pth") || n.endsWith(".bin") || n.endsWith(".ckpt");
  }

  /**
   * PyTorch pickles (dictionary_learning's {@code ae.pt}, {@code .pth}, {@code .bin}) can run
   * arbitrary code when loaded, and QDM has no Python: the user converts them once.
   */
  private static QdmException pickle(Path p) {
    return new QdmException(
        p
            + ": a PyTorch pickle; QDM does not read pickled SAEs (loading "
            + "one runs arbitrary code). Convert it to safetensors once, e.g. python -c \"import "
            + "torch; from safetensors.torch import save_file; save_file({k: v.contiguous() for k, v "
            + "in torch.load('"
            + p.getFileName()
            + "', map_location='cpu').items()}, "
            + "'sae_weights.safetensors')\", rename the tensors to W_enc [d_in, d_sae], b_enc, "
            + "W_dec [d_sae, d_in], b_dec and add a SAELens cfg.json (architecture, d_in, d_sae, "
            + "hook_name)");
  }

  /** The loader of a concrete format. */
  SaeLoader loader() {
    return switch (this) {
      case SAELENS -> new SaeLensFormat();
      case GEMMASCOPE -> new GemmaScopeFormat();
      case SPARSIFY -> new SparsifyFormat();
      case LLAMASCOPE -> new LlamaScopeFormat();
      case AUTO -> throw new IllegalStateException("resolve AUTO first");
    };
  }
}
