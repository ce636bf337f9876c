package qdm.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import qdm.QdmException;
import qdm.condition.Condition;
import qdm.config.AuditConfig;
import qdm.hub.HowToGet;
import qdm.hub.HubUri;
import qdm.io.LocalPaths;
import qdm.model.JsonFields;
import qdm.model.Model;
import qdm.model.ModelConfig;
import qdm.model.ModelFiles;
import qdm.model.WeightsLoader;
import qdm.sae.ModelName;
import qdm.sae.Sae;
import qdm.sae.SaeConfig;
import qdm.sae.SaeFormat;
import qdm.tokenize.Tokenizer;

/**
 * Everything checked before any compute: the model's config and weights layout, the tokenizer, the
 * SAE and its fit to the model, and the corpus paths. Nothing here moves weights onto a device: the
 * model's and the SAE's tensors are streamed once from their (memory-mapped) files to check that
 * every value is finite, which costs a read of the files, not their size in memory.
 *
 * <p>A missing file is reported with what belongs there and, when the config gives a source hint
 * ({@code model.source} etc.), where to get it. An {@code hf://} location still in the config (a
 * dry run does not download) is not checked inside; it is listed in {@link #notes()}.
 *
 * @param model the model's parsed configuration (null if the model is not downloaded yet)
 * @param saes every SAE with its name and configuration, hook resolved (empty while one is not
 *     downloaded yet)
 * @param bosTokenId the tokenizer's BOS id from {@code config.json}, or -1 if it has none
 * @param notes what could not be checked, for the user
 */
public record Preflight(
    ModelConfig model, List<NamedSae> saes, int bosTokenId, List<String> notes) {
  static final String MODEL_FILES =
      "a Hugging Face model directory: config.json, tokenizer.json "
          + "and model.safetensors (or model.safetensors.index.json with its shards)";
  static final String SAE_FILES =
      "an SAE: a SAELens folder (cfg.json, sae_weights.safetensors),"
          + " a Gemma Scope params.npz (or its folder), a sparsify folder (cfg.json, "
          + "sae.safetensors) or a Llama Scope folder (hyperparams.json, "
          + "checkpoints/final.safetensors)";

  public Preflight {
    notes = List.copyOf(notes);
    saes = List.copyOf(saes);
  }

  /**
   * One SAE of the audit as the run knows it.
   *
   * @param name its name in the tables (the config's, or its hook)
   * @param settings what the config says about it
   * @param config its configuration, hook resolved
   */
  public record NamedSae(String name, AuditConfig.SaeSettings settings, SaeConfig config) {}

  /** The first SAE's configuration (null while it is not downloaded). */
  public SaeConfig sae() {
    return saes.isEmpty() ? null : saes.get(0).config();
  }

  /** Runs every check; throws one {@link QdmException} listing what is wrong. */
  public static Preflight check(AuditConfig config) {
    List<String> problems = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    var sources = config.sources();
    ModelConfig model = null;
    ModelFiles files = null;
    int bos = -1;
    if (pending(config.model().path(), "qdm.model.path", notes)) {
      // checked after the download
    } else {
      files = config.modelFiles();
      List<String> missing = missingModelFiles(files, config.model().weights().isPresent());
      if (!missing.isEmpty()) {
        problems.add(
            missing(
                "qdm.model.path",
                files.dir(),
                String.join(", ", missing),
                MODEL_FILES,
                sources.model(),
                true));
        files = null;
      }
    }
    if (files != null) {
      try {
        model = Model.readConfig(files);
        bos = JsonFields.read(files.config()).integer("bos_token_id", -1);
        if ((config.corpus().bos()
                || config.windows().sliding().enabled() && config.windows().sliding().bos())
            && bos < 0) {
          problems.add(
              "qdm.corpus.bos / qdm.windows.sliding.bos: a BOS token is asked for "
                  + "but "
                  + files.config()
                  + " has no bos_token_id");
        }
      } catch (QdmException e) {
        problems.add("qdm.model: " + e.getMessage());
      }
    }
    if (model != null) {
      try (var store = Model.openCheckpoint(files)) {
        WeightsLoader.check(store, model);
        WeightsLoader.requireFinite(store, model.tensors());
      } catch (QdmException e) {
        problems.add("qdm.model: " + e.getMessage());
      }
      try (Tokenizer tokenizer = Tokenizer.load(files.tokenizer())) {
        // loads and parses tokenizer.json as the tokenize stage will
      } catch (QdmException e) {
        problems.add("qdm.model: " + e.getMessage());
      }
    }
    if (model != null) {
      checkpoints(config, files, model, problems, notes);
    }
    List<NamedSae> saes = new ArrayList<>();
    java.util.Map<String, String> names = new java.util.HashMap<>();
    for (AuditConfig.SaeSettings settings : config.saes()) {
      SaeConfig sae = checkSae(settings, model, files, config.saes().size(), problems, notes);
      if (sae == null) {
        continue;
      }
      String name = settings.name().orElse(sae.hook().toString());
      String other = names.putIfAbsent(name, settings.key());
      if (other != null) {
        problems.add(
            settings.key()
                + ": its name '"
                + name
                + "' is also "
                + other
                + "'s"
                + (settings.name().isEmpty() ? " (an unnamed SAE is named by its hook)" : "")
                + "; give each SAE a unique name = ...");
      }
      saes.add(new NamedSae(name, settings, sae));
    }
    if (saes.size() < config.saes().size()) {
      saes.clear(); // not all known: nothing downstream may take a partial list for the whole
    }
    output(config, problems);
    contextLength(config, files, model, problems);
    corpus("qdm.corpus.paths", config.corpus().paths(), sources.corpus(), problems, notes);
    config
        .windows()
        .sliding()
        .corpus()
        .filter(c -> config.windows().sliding().enabled())
        .ifPresent(
            c ->
                corpus(
                    "qdm.windows.sliding.corpus.paths",
                    c.paths(),
                    sources.slidingCorpus(),
                    problems,
                    notes));
    if (!problems.isEmpty()) {
      throw new QdmException(
          (config.source() == null ? "" : config.source() + ": ")
              + (problems.size() == 1
                  ? problems.get(0)
                  : problems.size() + " problems:\n  " + String.join("\n  ", problems)));
    }
    return new Preflight(model, saes, bos, notes);
  }

  /**
   * One SAE's files, its fit to the model (width, hook) and finiteness; null when it is not
   * downloaded yet or has a problem (recorded, naming the SAE by its key, name and path).
   */
  private static SaeConfig checkSae(
      AuditConfig.SaeSettings settings,
      ModelConfig model,
      ModelFiles files,
      int count,
      List<String> problems,
      List<String> notes) {
    if (pending(settings.path(), settings.key() + ".path", notes)) {
      return null;
    }
    String who =
        settings.key() + (count > 1 ? settings.name().map(n -> " (" + n + ")").orElse("") : "");
    Path saePath = Path.of(LocalPaths.local(settings.path()));
    if (!Files.exists(saePath)) {
      problems.add(
          missing(settings.key() + ".path", saePath, null, SAE_FILES, settings.source(), false));
      return null;
    }
    try {
      SaeConfig sae = Sae.readConfig(saePath, SaeFormat.parse(settings.format()), settings.hook());
      if (model != null) {
        sae.checkCompatible(model, ModelName.of(files.dir()));
      }
      Sae.requireFinite(sae);
      return sae;
    } catch (QdmException e) {
      problems.add(who + (count > 1 ? " at " + saePath : "") + ": " + e.getMessage());
      return null;
    }
  }

  /**
   * A local output location must be (or be creatable as) a directory: its nearest existing ancestor
   * is a writable directory, and no part of {@code <output>/<run-name>} is a file. Other
   * filesystems are checked when the run opens them.
   */
  private static void output(AuditConfig config, List<String> problems) {
    String out = config.output();
    if (out.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") && !out.startsWith("file:")) {
      return;
    }
    Path root =
        Path.of(out.startsWith("file:") ? java.net.URI.create(out).getPath() : out)
            .toAbsolutePath()
            .normalize();
    Path run = root.resolve(config.runName());
    for (Path p = run; p != null; p = p.getParent()) {
      if (!Files.exists(p)) {
        continue;
      }
      if (!Files.isDirectory(p)) {
        problems.add(
            "qdm.output: "
                + p
                + " is a file, but the run's outputs go into the "
                + "directory "
                + run
                + "; choose another qdm.output or qdm.run-name");
      } else if (!Files.isWritable(p)) {
        problems.add("qdm.output: " + p + " is not writable, so " + run + " cannot be written");
      }
      return;
    }
  }

  /** Windows longer than the model's context are refused (Architecture#contextLength). */
  private static void contextLength(
      AuditConfig config, ModelFiles files, ModelConfig model, List<String> problems) {
    if (model == null) {
      return;
    }
    java.util.OptionalInt context = Model.contextLength(files);
    if (context.isEmpty()) {
      return;
    }
    int n = context.getAsInt();
    if (config.windows().chunkLength() > n) {
      problems.add(
          "qdm.windows.chunk-length: "
              + config.windows().chunkLength()
              + " is longer "
              + "than the model's context of "
              + n
              + " tokens (max_position_embeddings in "
              + files.config()
              + ")");
    }
    var sliding = config.windows().sliding();
    if (sliding.enabled() && sliding.length() > n) {
      problems.add(
          "qdm.windows.sliding.length: "
              + sliding.length()
              + " is longer than the "
              + "model's context of "
              + n
              + " tokens (max_position_embeddings in "
              + files.config()
              + ")");
    }
  }

  /** True (and a note) if {@code path} is an hf:// location not downloaded yet. */
  private static boolean pending(String path, String key, List<String> notes) {
    if (!HubUri.isHub(path)) {
      return false;
    }
    notes.add(
        key
            + " = "
            + path
            + ": not downloaded yet, so nothing inside it was checked; "
            + "'qdm run' downloads it into the hub cache (qdm.hub.cache)");
    return true;
  }

  /**
   * Each checkpoint condition against the reference: its own config.json (if any) of the same
   * architecture and shape, every tensor the reference has with its shape and no others, finite
   * values; and which tensors it changes (a note), a checkpoint that changes none being an error
   * (the reference given twice).
   */
  private static void checkpoints(
      AuditConfig config,
      ModelFiles reference,
      ModelConfig model,
      List<String> problems,
      List<String> notes) {
    for (Condition.Checkpoint k : Condition.checkpoints(config.conditions())) {
      String key = "qdm.conditions." + k.name();
      if (pending(k.path(), key + ".path", notes)) {
        continue;
      }
      String path = LocalPaths.local(k.path());
      try {
        ModelFiles files = qdm.model.CheckpointFiles.resolve(path, k.format(), reference);
        Optional<Path> own = qdm.model.CheckpointFiles.ownConfig(path);
        if (own.isPresent()
            && !own.get().toAbsolutePath().equals(reference.config().toAbsolutePath())) {
          ModelConfig theirs = Model.readConfig(ModelFiles.of(own.get().getParent()));
          if (!theirs.modelType().equals(model.modelType())) {
            throw new QdmException(
                own.get()
                    + ": model_type '"
                    + theirs.modelType()
                    + "', but the reference is '"
                    + model.modelType()
                    + "'");
          }
          Optional<String> m = specMismatch(theirs.tensors(), model.tensors());
          if (m.isPresent()) {
            throw new QdmException(
                own.get() + ": not a checkpoint of the reference model: " + m.get());
          }
        }
        try (var store = Model.openCheckpoint(files);
            var ref = Model.openCheckpoint(reference)) {
          Optional<String> mismatch =
              qdm.model.CheckpointDiff.firstMismatch(store, model.tensors());
          if (mismatch.isPresent()) {
            throw new QdmException(files.weights() + ": " + mismatch.get());
          }
          WeightsLoader.check(store, model);
          WeightsLoader.requireFinite(store, model.tensors());
          var diffs = qdm.model.CheckpointDiff.of(ref, store, model.tensors());
          qdm.model.CheckpointDiff.requireSomeChange(files.weights().toString(), diffs);
          notes.add(
              key
                  + ": "
                  + qdm.model.CheckpointSource.describe(store)
                  + " checkpoint "
                  + files.weights()
                  + "; "
                  + qdm.model.CheckpointDiff.summary(diffs));
        }
      } catch (QdmException e) {
        problems.add(key + ": " + e.getMessage());
      }
    }
  }

  /** The first spec of {@code theirs} that differs from {@code ours} in name or shape. */
  private static Optional<String> specMismatch(
      List<qdm.model.TensorSpec> theirs, List<qdm.model.TensorSpec> ours) {
    for (int i = 0; i < Math.max(theirs.size(), ours.size()); i++) {
      if (i >= theirs.size()) {
        return Optional.of("its config.json has no tensor '" + ours.get(i).name() + "'");
      }
      if (i >= ours.size()) {
        return Optional.of("its config.json has an extra tensor '" + theirs.get(i).name() + "'");
      }
      var a = theirs.get(i);
      var b = ours.get(i);
      if (!a.name().equals(b.name()) || !java.util.Arrays.equals(a.shape(), b.shape())) {
        return Optional.of("its config.json gives " + a + " where the reference has " + b);
      }
    }
    return Optional.empty();
  }

  /** The files a model directory lacks (all of them, named, when the directory is missing). */
  private static List<String> missingModelFiles(ModelFiles files, boolean weightsGiven) {
    List<String> missing = new ArrayList<>();
    Path dir = files.dir();
    if (!Files.isRegularFile(dir.resolve(ModelFiles.CONFIG))) {
      missing.add(ModelFiles.CONFIG);
    }
    if (!Files.isRegularFile(dir.resolve(ModelFiles.TOKENIZER))) {
      missing.add(ModelFiles.TOKENIZER);
    }
    if (weightsGiven) {
      Path w = files.weightsOverride().orElseThrow();
      if (!Files.isRegularFile(w)) {
        missing.add(w + " (qdm.model.weights)");
      }
    } else if (!Files.exists(dir.resolve(ModelFiles.SINGLE))
        && !Files.exists(dir.resolve(ModelFiles.INDEX))) {
      missing.add(ModelFiles.SINGLE + " (or " + ModelFiles.INDEX + ")");
    }
    return missing;
  }

  private static void corpus(
      String key,
      List<String> paths,
      List<String> sources,
      List<String> problems,
      List<String> notes) {
    for (int i = 0; i < paths.size(); i++) {
      String p = paths.get(i);
      if (pending(p, key, notes)) {
        continue;
      }
      if (!p.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") || p.startsWith("file:")) {
        Path local =
            Path.of(p.startsWith("file:") ? java.net.URI.create(p).getPath() : p)
                .toAbsolutePath()
                .normalize();
        if (!Files.exists(local)) {
          problems.add(
              missing(
                  key,
                  local,
                  null,
                  "a corpus file or directory (text, jsonl or " + "parquet)",
                  i < sources.size() ? Optional.of(sources.get(i)) : Optional.empty(),
                  false));
        }
      }
    }
  }

  /** The message for a missing path: what belongs there and where to get it. */
  private static String missing(
      String key,
      Path path,
      String files,
      String what,
      Optional<String> source,
      boolean modelRoot) {
    String head =
        Files.isDirectory(path) && files != null
            ? key + ": " + path + " lacks " + files + " (it must be " + what + ")."
            : key + ": " + path + " does not exist; it must be " + what + ".";
    return head + source.map(s -> "\n    " + HowToGet.describe(key, path, s, modelRoot)).orElse("");
  }

  /** The hook as TransformerLens names it. */
  public String hook() {
    return sae().hook().toString();
  }

  Optional<Integer> bos() {
    return bosTokenId >= 0 ? Optional.of(bosTokenId) : Optional.empty();
  }
}
