package qdm.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import qdm.demo.DemoLm;
import qdm.train.LmOptions;

/**
 * {@code qdm demo train-lm}: the demo's tokenizer and GPT-NeoX model, trained on the CPU. The
 * defaults reproduce the shipped {@code assets/demo/neox-brown/model}, the toy model that was the
 * demo before stories15M.
 */
@Command(
    name = "train-lm",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Train the Brown toy tokenizer and model (assets/demo/neox-brown/model).",
      "A byte-level BPE and a GPT-NeoX on the Brown training part, written as a",
      "Hugging Face model directory; reports held-out perplexity and a unigram",
      "baseline. The defaults reproduce assets/demo/neox-brown/model."
    })
final class DemoTrainLmCommand implements Callable<Integer> {

  @Option(
      names = "--corpus",
      defaultValue = "assets/demo/brown",
      paramLabel = "DIR",
      description = "Directory with train.txt and heldout.txt (default: ${DEFAULT-VALUE}).")
  Path corpus;

  @Option(
      names = "--out",
      defaultValue = "assets/demo/neox-brown/model",
      paramLabel = "DIR",
      description = "Model directory to write (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--vocab",
      defaultValue = "4096",
      description = "Tokenizer ids (default: " + "${DEFAULT-VALUE}).")
  int vocab;

  @Option(
      names = "--layers",
      defaultValue = "4",
      description = "Blocks (default: " + "${DEFAULT-VALUE}).")
  int layers;

  @Option(
      names = "--d-model",
      defaultValue = "192",
      description = "Residual width (default: " + "${DEFAULT-VALUE}).")
  int dModel;

  @Option(
      names = "--heads",
      defaultValue = "6",
      description = "Attention heads (default: " + "${DEFAULT-VALUE}).")
  int heads;

  @Option(
      names = "--context",
      defaultValue = "128",
      description = "Training window " + "(default: ${DEFAULT-VALUE}).")
  int context;

  @Option(
      names = "--steps",
      defaultValue = "640",
      description = "Optimizer steps (default: " + "${DEFAULT-VALUE}).")
  int steps;

  @Option(
      names = "--batch",
      defaultValue = "32",
      description = "Windows per step (default: " + "${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--lr",
      defaultValue = "2e-3",
      description = "Peak AdamW learning rate " + "(default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(
      names = "--warmup",
      defaultValue = "60",
      description = "Warm-up steps (default: " + "${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--lr-floor",
      defaultValue = "0.1",
      description =
          "Final learning rate as a " + "fraction of the peak (default: ${DEFAULT-VALUE}).")
  double lrFloor;

  @Option(
      names = "--weight-decay",
      defaultValue = "0.1",
      description = "AdamW weight decay " + "on matrices (default: ${DEFAULT-VALUE}).")
  double weightDecay;

  @Option(
      names = "--clip",
      defaultValue = "1.0",
      description = "Gradient norm clip " + "(default: ${DEFAULT-VALUE}).")
  double clip;

  @Mixin RunSeedOptions run = new RunSeedOptions();

  @Option(
      names = "--log-every",
      defaultValue = "10",
      description = "Steps between progress " + "lines (default: ${DEFAULT-VALUE}).")
  int logEvery;

  @Option(
      names = "--eval-every",
      defaultValue = "100",
      description =
          "Steps between held-out " + "evaluations, 0 for none (default: ${DEFAULT-VALUE}).")
  int evalEvery;

  @Option(
      names = "--eval-tokens",
      defaultValue = "16384",
      description = "Held-out tokens " + "scored during training (default: ${DEFAULT-VALUE}).")
  int evalTokens;

  @Override
  public Integer call() {
    LmOptions options =
        new LmOptions(
            steps,
            batch,
            context,
            lr,
            warmup,
            lrFloor,
            weightDecay,
            clip,
            run.seed,
            logEvery,
            evalEvery);
    long start = System.nanoTime();
    DemoLm.run(
        new DemoLm.Spec(
            corpus, out, vocab, layers, dModel, heads, context, options, run.threads, evalTokens),
        System.out);
    System.err.printf(
        "qdm demo train-lm: wrote %s in %.1f min%n", out, (System.nanoTime() - start) / 60e9);
    return 0;
  }
}
