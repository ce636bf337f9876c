package qdm.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.train.SaeRun;

/**
 * {@code qdm train-sae}: trains a sparse autoencoder on a model's residual stream, for models
 * without a published SAE, and writes it in SAELens format.
 */
@Command(
    name = "train-sae",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Train a sparse autoencoder on a model's residual stream (SAELens output).",
      "Standard (ReLU + L1) or TopK, at blocks.L.hook_resid_post, over text files, on",
      "the CPU. Writes cfg.json and sae_weights.safetensors and reports L0, fraction of",
      "variance unexplained and dead features on held-out text."
    })
final class TrainSaeCommand implements Callable<Integer> {

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description = "Hugging Face model directory (with tokenizer.json).")
  Path model;

  @Option(
      names = "--hook",
      required = true,
      paramLabel = "HOOK",
      description = "blocks.L.hook_resid_post")
  String hook;

  @Option(
      names = "--corpus",
      required = true,
      split = ",",
      paramLabel = "FILE",
      description = "Text files to train on (comma-separated or repeated).")
  List<Path> corpus;

  @Option(
      names = "--eval-corpus",
      split = ",",
      paramLabel = "FILE",
      description = "Held-out text files for the reported metrics.")
  List<Path> evalCorpus = List.of();

  @Option(
      names = "--out",
      required = true,
      paramLabel = "DIR",
      description = "SAE directory to write.")
  Path out;

  @Option(
      names = "--model-name",
      paramLabel = "NAME",
      description = "model_name in cfg.json (default: the model directory's name).")
  String modelName;

  @Mixin SaeTrainingOptions training;

  @Override
  public Integer call() {
    String name =
        modelName != null ? modelName : model.toAbsolutePath().normalize().getFileName().toString();
    run(
        model,
        hook,
        corpus,
        evalCorpus,
        out,
        name,
        String.join(",", corpus.stream().map(Path::toString).toList()),
        training);
    return 0;
  }

  static void run(
      Path model,
      String hook,
      List<Path> corpus,
      List<Path> evalCorpus,
      Path out,
      String modelName,
      String dataset,
      SaeTrainingOptions t) {
    int dModel = Model.readConfig(ModelFiles.of(model)).hiddenSize();
    long start = System.nanoTime();
    SaeRun.run(
        new SaeRun.Spec(
            model,
            hook,
            corpus,
            evalCorpus,
            out,
            t.context,
            t.maxTokens,
            t.evalTokens,
            t.forwardBatch,
            t.resolve(dModel),
            t.run.threads,
            modelName,
            dataset),
        System.out);
    System.err.printf(
        "qdm train-sae: wrote %s in %.1f min%n", out, (System.nanoTime() - start) / 60e9);
  }
}
