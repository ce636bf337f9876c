package qdm.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import qdm.demo.DemoCorpus;

/**
 * {@code qdm demo train-sae}: {@code qdm train-sae} with the demo's model (stories15M), hook and
 * corpus (the model's own sampled stories). The defaults reproduce the shipped {@code
 * assets/demo/sae}.
 */
@Command(
    name = "train-sae",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Train the demo SAE (assets/demo/sae).",
      "train-sae on assets/demo/stories15M at blocks.3.hook_resid_post over the demo",
      "corpus's training stories, evaluated on the held-out ones. The defaults reproduce",
      "assets/demo/sae."
    })
final class DemoTrainSaeCommand implements Callable<Integer> {
  static final String MODEL_NAME = "stories15M";

  @Option(
      names = "--model",
      defaultValue = "assets/demo/stories15M",
      paramLabel = "DIR",
      description = "Model directory (default: ${DEFAULT-VALUE}).")
  Path model;

  @Option(
      names = "--hook",
      defaultValue = "blocks.3.hook_resid_post",
      paramLabel = "HOOK",
      description = "Hook (default: ${DEFAULT-VALUE}).")
  String hook;

  @Option(
      names = "--corpus",
      defaultValue = "assets/demo/corpus",
      paramLabel = "DIR",
      description = "Directory with train.txt and heldout.txt (default: ${DEFAULT-VALUE}).")
  Path corpus;

  @Option(
      names = "--out",
      defaultValue = "assets/demo/sae",
      paramLabel = "DIR",
      description = "SAE directory to write (default: ${DEFAULT-VALUE}).")
  Path out;

  @Mixin SaeTrainingOptions training;

  @Override
  public Integer call() {
    TrainSaeCommand.run(
        model,
        hook,
        List.of(corpus.resolve(DemoCorpus.TRAIN)),
        List.of(corpus.resolve(DemoCorpus.HELD_OUT)),
        out,
        MODEL_NAME,
        "stories sampled from stories15M by llama2.c run.c, seeds 301-2000 ("
            + DemoCorpus.TRAIN
            + ")",
        training);
    return 0;
  }
}
