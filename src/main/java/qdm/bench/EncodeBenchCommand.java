package qdm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import qdm.QdmException;

/** {@code qdm bench encode}: the encode stage's tokens x conditions per second. */
@Command(
    name = "encode",
    mixinStandardHelpOptions = true,
    description = {
      "Encode-stage throughput in tokens x conditions per second.",
      "The real stage in Spark local mode on a Pythia-70M-shaped model and a",
      "32k-feature SAE with random weights, over the bundled held-out text. Model",
      "loading, compressed copies, NLL head, SAE codes and Parquet writes all count.",
      "Run from the repository root."
    })
public class EncodeBenchCommand implements Callable<Integer> {

  /** Whether to time the analyze stage and the plain forward + SAE rate too ({@code sweep}). */
  protected boolean sweep() {
    return false;
  }

  @Option(
      names = "--tokens",
      defaultValue = "8192",
      description = "Tokens encoded per condition (${DEFAULT-VALUE}).")
  int tokens;

  @Option(
      names = "--conditions",
      split = ",",
      defaultValue = "rtn8,rtn4",
      description = "Conditions after fp: rtnN or pruneP (${DEFAULT-VALUE}).")
  List<String> conditions = new ArrayList<>();

  @Option(
      names = "--chunk-length",
      defaultValue = "512",
      description = "Tokens per window (${DEFAULT-VALUE}).")
  int chunkLength;

  @Option(
      names = "--batch-size",
      defaultValue = "8",
      description = "Windows per forward pass (${DEFAULT-VALUE}).")
  int batchSize;

  @Option(
      names = "--d-sae",
      defaultValue = "32768",
      description = "SAE features (${DEFAULT-VALUE}).")
  int dSae;

  @Option(
      names = "--l0",
      defaultValue = "60",
      description = "Features firing per token, on average (${DEFAULT-VALUE}).")
  int l0;

  @Option(
      names = "--layer",
      defaultValue = "3",
      description = "SAE hook block, blocks.L.hook_resid_post (${DEFAULT-VALUE}).")
  int layer;

  @Option(
      names = "--corpus",
      defaultValue = "assets/demo/brown/heldout.txt",
      description = "Text to tokenize (${DEFAULT-VALUE}).")
  Path corpus;

  @Option(
      names = "--tokenizer",
      defaultValue = "assets/demo/neox-brown/model/tokenizer.json",
      description = "tokenizer.json for the random model (${DEFAULT-VALUE}).")
  Path tokenizer;

  @Option(
      names = "--master",
      defaultValue = "local[*]",
      description = "Spark master (${DEFAULT-VALUE}).")
  String master;

  @Option(
      names = "--work-dir",
      description =
          "Where model, SAE and outputs go (default: a "
              + "temporary directory, deleted afterwards).")
  Path workDir;

  @Option(
      names = "--saes",
      defaultValue = "1",
      description = "SAEs measured in the same pass (copies of the random one, each named) (1).")
  int saes;

  @Override
  public Integer call() throws IOException {
    if (saes < 1) {
      throw new QdmException("--saes must be at least 1, got " + saes);
    }
    boolean temporary = workDir == null;
    Path dir = temporary ? Files.createTempDirectory("qdm-bench-encode") : workDir;
    if (!temporary && Files.exists(dir) && Files.list(dir).findAny().isPresent()) {
      throw new QdmException("--work-dir " + dir + ": must be empty or absent");
    }
    try {
      EncodeBenchmark.Options o =
          new EncodeBenchmark.Options(
              tokens,
              chunkLength,
              batchSize,
              dSae,
              l0,
              layer,
              conditions,
              corpus,
              tokenizer,
              dir,
              master);
      EncodeBenchmark.Result r = EncodeBenchmark.run(o, System.err, sweep(), saes);
      System.out.printf(
          Locale.ROOT,
          "encode stage: Pythia-70M shape, SAE d_sae %d (L0 ~%d) at "
              + "blocks.%d.hook_resid_post, windows of %d, batch %d, master %s%n",
          dSae,
          l0,
          layer,
          chunkLength,
          batchSize,
          master);
      System.out.printf(
          Locale.ROOT,
          "%,d tokens x %d conditions%s in %.1f s: %.0f tokens x "
              + "conditions/s (%.1f s per 1k tokens per condition)%n",
          r.tokensPerCondition(),
          r.conditions(),
          saes > 1 ? " x " + saes + " SAEs" : "",
          r.encodeSeconds(),
          r.tokenConditionsPerSecond(),
          1000 / r.tokenConditionsPerSecond());
      System.out.printf(
          Locale.ROOT,
          "cpu used: %.2f cores on average over the stage (%d " + "available)%n",
          r.cpuCores(),
          java.lang.Runtime.getRuntime().availableProcessors());
      if (sweep()) {
        double rate = r.tokenConditionsPerSecond();
        System.out.printf(
            Locale.ROOT,
            "plain forward (with NLL head) + SAE codes, one model, all cores, same windows: %.0f"
                + " tokens/s%nencode at %.0f%% of that rate (every measurement included: KL, Δp,"
                + " top-1, SAE fidelity, CE-loss splices, feature sums, Parquet)%n",
            r.baselineTokensPerSecond(),
            100 * rate / r.baselineTokensPerSecond());
        System.out.printf(
            Locale.ROOT,
            "analyze stage alone: %.1f s for %d conditions x %d features%s (stability checks"
                + " included)%n",
            r.analyzeSeconds(),
            r.conditions(),
            dSae,
            saes > 1 ? " x " + saes + " SAEs" : "");
      }
    } finally {
      if (temporary) {
        qdm.io.TempDirs.deleteQuietly(dir);
      }
    }
    return 0;
  }
}
