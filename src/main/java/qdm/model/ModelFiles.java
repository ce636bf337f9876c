package qdm.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import qdm.QdmException;
import qdm.io.SafetensorsFile;
import qdm.io.ShardedSafetensors;
import qdm.io.TensorStore;
import qdm.io.gguf.GgufStore;
import qdm.io.quant.QuantConfig;
import qdm.io.quant.WeightFormat;

/**
 * The files of a Hugging Face model directory: {@code config.json}, the weights (one {@code
 * model.safetensors}, a sharded {@code model.safetensors.index.json}, a single {@code .gguf} file,
 * or a file the user picks) and {@code tokenizer.json}; {@code format} overrides the detection of
 * the weights' format ({@link WeightFormat}).
 */
public record ModelFiles(Path dir, Optional<Path> weightsOverride, Optional<String> format) {

  public ModelFiles(Path dir, Optional<Path> weightsOverride) {
    this(dir, weightsOverride, Optional.empty());
  }

  public static final String CONFIG = "config.json";
  public static final String SINGLE = "model.safetensors";
  public static final String INDEX = "model.safetensors.index.json";
  public static final String TOKENIZER = "tokenizer.json";

  /**
   * A model as a user names it, resolved once to absolute local paths: a directory (relative paths
   * against the working directory, {@code file:} URIs as plain paths), or a single {@code .gguf}
   * file, which stands for its directory with that file as the weights; {@code weights} overrides
   * the weights file.
   */
  public static ModelFiles resolve(String path, Optional<String> weights) {
    Path p = Path.of(qdm.io.LocalPaths.local(path));
    Optional<Path> w = weights.map(x -> Path.of(qdm.io.LocalPaths.local(x)));
    if (w.isEmpty() && Files.isRegularFile(p) && p.toString().endsWith(".gguf")) {
      return new ModelFiles(p.getParent(), Optional.of(p));
    }
    return new ModelFiles(p, w);
  }

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
    java.util.List<Path> gguf = new java.util.ArrayList<>();
    try (var list = Files.list(dir)) {
      list.filter(p -> p.getFileName().toString().endsWith(".gguf")).sorted().forEach(gguf::add);
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      // reported below as no weights
    }
    if (gguf.size() == 1) {
      return gguf.get(0);
    }
    throw new QdmException(
        dir
            + ": no weights found (expected "
            + SINGLE
            + ", "
            + INDEX
            + (gguf.size() > 1
                ? ", or one .gguf file, but there are " + gguf.size()
                : " or a .gguf" + " file")
            + "); pass a weights file explicitly");
  }

  /** Checks that the directory and its config exist, before any loading. */
  public void checkExists() {
    if (!Files.isDirectory(dir)) {
      throw new QdmException(dir + ": model directory not found");
    }
    if (!Files.isRegularFile(config())) {
      throw new QdmException(
          config() + ": no such file (a Hugging Face model directory has a " + "config.json)");
    }
    Path w = weights();
    if (!Files.isRegularFile(w)) {
      throw new QdmException(w + ": weights file not found");
    }
  }

  /**
   * The quantization config that goes with the weights: from a config.json beside the weights file
   * (a quantized checkpoint's own), else from this directory's {@code config}.
   */
  public Optional<QuantConfig> quantConfig(JsonFields config) {
    Path w = weights().toAbsolutePath();
    Path beside = w.getParent() == null ? null : w.getParent().resolve(CONFIG);
    if (beside != null && !beside.equals(config.file().toAbsolutePath())) {
      Optional<QuantConfig> q = QuantConfig.find(p -> JsonFields.read(p).json(), beside);
      if (q.isPresent()) {
        return q;
      }
    }
    Optional<QuantConfig> own = QuantConfig.of(config.file(), config.json());
    if (own.isPresent() || w.getParent() == null) {
      return own;
    }
    // AutoGPTQ and AutoAWQ also wrote their settings to a file of their own
    for (String[] f :
        new String[][] {{"quantize_config.json", "gptq"}, {"quant_config.json", "awq"}}) {
      Path p = w.getParent().resolve(f[0]);
      if (Files.isRegularFile(p)) {
        com.google.gson.JsonObject j = JsonFields.read(p).json().deepCopy();
        if (!j.has("quant_method")) {
          j.addProperty("quant_method", f[1]);
        }
        return Optional.of(new QuantConfig(p, f[0].replace(".json", ""), j));
      }
    }
    return Optional.empty();
  }

  /** The format of the weights: {@link #format} if given, else detected. */
  public WeightFormat weightFormat(JsonFields config, TensorStore opened) {
    if (format.isPresent()) {
      return WeightFormat.parse(format.get(), "format");
    }
    return WeightFormat.detect(weights(), quantConfig(config), opened);
  }

  /**
   * Opens the weights as float32 tensors under the Hugging Face names of the architecture of {@code
   * config} (before {@link Architecture#checkpoint}), whatever their format: dense or sharded
   * safetensors, a quantized safetensors checkpoint, or a GGUF file.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public TensorStore openWeights(JsonFields config) {
    Path w = weights();
    boolean gguf =
        format
            .map(f -> WeightFormat.parse(f, "format") == WeightFormat.GGUF)
            .orElse(
                w.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf"));
    if (gguf) {
      Architecture arch = Architectures.of(config);
      ModelConfig parsed = arch.parseConfig(config);
      Optional<qdm.io.gguf.GgufNames> names = arch.gguf(parsed);
      if (names.isEmpty()) {
        throw new QdmException(
            w + ": QDM has no GGUF tensor mapping for model_type '" + parsed.modelType() + "'");
      }
      return GgufStore.open(w, names.get());
    }
    TensorStore raw =
        w.getFileName().toString().endsWith(".index.json")
            ? ShardedSafetensors.open(w)
            : SafetensorsFile.open(w);
    try {
      WeightFormat f = weightFormat(config, raw);
      if (f == WeightFormat.GGUF) {
        throw new QdmException(w + ": format gguf was given but the file is safetensors");
      }
      Optional<QuantConfig> q =
          f == WeightFormat.SAFETENSORS
              ? Optional.empty()
              : quantConfig(config).or(() -> WeightFormat.inferred(raw));
      return f.wrap(raw, q);
    } catch (RuntimeException e) {
      raw.close();
      throw e;
    }
  }
}
