package qdm.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import qdm.QdmException;

/**
 * Where a checkpoint condition's weights are, read with the reference model's config.json (the
 * reference's architecture and tensor names are the contract): a model directory (its {@code
 * model.safetensors}, shard index or single {@code .gguf}; its own config.json supplies the {@code
 * quantization_config}), or one weights file.
 */
public final class CheckpointFiles {
  private CheckpointFiles() {}

  /** The files to load a checkpoint at {@code path} with, {@code reference} giving the config. */
  public static ModelFiles resolve(String path, Optional<String> format, ModelFiles reference) {
    Path p = Path.of(path);
    if (Files.isDirectory(p)) {
      return new ModelFiles(reference.dir(), Optional.of(ModelFiles.of(p).weights()), format);
    }
    if (!Files.isRegularFile(p)) {
      throw new QdmException(
          path + ": checkpoint not found (a model directory, a .gguf or " + ".safetensors file)");
    }
    return new ModelFiles(reference.dir(), Optional.of(p), format);
  }

  /** The checkpoint's own config.json, if it has one (a model directory's). */
  public static Optional<Path> ownConfig(String path) {
    Path p = Path.of(path);
    Path c =
        Files.isDirectory(p)
            ? p.resolve(ModelFiles.CONFIG)
            : p.toAbsolutePath().getParent().resolve(ModelFiles.CONFIG);
    return Files.isRegularFile(c) ? Optional.of(c) : Optional.empty();
  }
}
