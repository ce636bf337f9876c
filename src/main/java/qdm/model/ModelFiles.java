package qdm.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import qdm.QdmException;
import qdm.io.SafetensorsFile;
import qdm.io.ShardedSafetensors;
import qdm.io.TensorStore;

/**
 * The files of a Hugging Face model directory: {@code config.json}, the weights (one
 * {@code model.safetensors}, a sharded {@code model.safetensors.index.json}, or a file the user
 * picks) and {@code tokenizer.json}.
 */
public record ModelFiles(Path dir, Optional<Path> weightsOverride) {
  public static final String CONFIG = "config.json";
  public static final String SINGLE = "model.safetensors";
  public static final String INDEX = "model.safetensors.index.json";
  public static final String TOKENIZER = "tokenizer.json";

  public static ModelFiles of(Path dir) {
    return new ModelFiles(dir, Optional.empty());
  }

  public Path config() {
    return dir.resolve(CONFIG);
  }

  public Path tokenizer() {
    return dir.resolve(TOKENIZER);
  }

  /** The weights file to read: the override, else the single file, else the shard index. */
  public Path weights() {
    if (weightsOverride.isPresent()) {
      return weightsOverride.get();
    }
    if (Files.exists(dir.resolve(SINGLE))) {
      return dir.resolve(SINGLE);
    }
    if (Files.exists(dir.resolve(INDEX))) {
      return dir.resolve(INDEX);
    }
    throw new QdmException(dir + ": no weights found (expected " + SINGLE + " or " + INDEX
        + "); pass a weights file explicitly if it has another name");
  }

  /** Checks that the directory and its config exist, before any loading. */
  public void checkExists() {
    if (!Files.isDirectory(dir)) {
      throw new QdmException(dir + ": model directory not found");
    }
    if (!Files.isRegularFile(config())) {
      throw new QdmException(config() + ": no such file (a Hugging Face model directory has a "
          + "config.json)");
    }
    Path w = weights();
    if (!Files.isRegularFile(w)) {
      throw new QdmException(w + ": weights file not found");
    }
  }

  /** Opens the weights, sharded or not. */
  public TensorStore openWeights() {
    Path w = weights();
    return w.getFileName().toString().endsWith(".index.json")
        ? ShardedSafetensors.open(w) : SafetensorsFile.open(w);
  }
}
