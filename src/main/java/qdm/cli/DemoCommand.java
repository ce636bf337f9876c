package qdm.cli;

import picocli.CommandLine.Command;

/**
 * {@code qdm demo}: the commands that build the bundled demo assets (corpus, language model and SAE
 * under {@code assets/demo/}); see {@code assets/demo/README.md}.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Build the bundled demo: corpus, language model and SAE (assets/demo/).",
    subcommands = {
      DemoFetchCorpusCommand.class,
      DemoFetchModelCommand.class,
      DemoTrainLmCommand.class,
      DemoTrainSaeCommand.class
    })
final class DemoCommand {}
