package qdm.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import qdm.demo.DemoCorpus;

/**
 * {@code qdm demo train-sae}: {@code qdm train-sae} with the demo's model, hook and corpus. The
 * defaults reproduce the shipped {@code assets/demo/sae}.
 */
@Command(
    name = "train-sae",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Train the demo SAE (assets/demo/sae).",
      "train-sae on assets/demo/model at blocks.2.hook_resid_post over the demo corpus's",
      "training part, evaluated on the held-out part. The defaults reproduce",
      "assets/demo/sae."
    })
final class DemoTrainSaeCommand implements Callable<Integer> {
  static final String MODEL_NAME = "qdm-demo-brown-neox";

  @Option(
      names = "--model",
      defaultValue = "assets/demo/model",
      paramLabel = "DIR",
      description = "Model directory (default: ${DEFAULT-VALUE}).")
  Path model;

  @Option(
      names = "--hook",
      defaultValue = "blocks.2.hook_resid_post",
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
        DemoCorpus.PACKAGE + "@" + DemoCorpus.VERSION + " training part (" + DemoCorpus.TRAIN + ")",
        training);
    return 0;
  }
}
