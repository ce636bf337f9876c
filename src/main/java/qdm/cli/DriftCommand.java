package qdm.cli;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import qdm.QdmException;
import qdm.condition.ReferenceModel;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.data.Window;
import qdm.drift.DriftProbe;
import qdm.drift.DriftReport;
import qdm.io.LocalPaths;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.Placement;
import qdm.model.Processing;
import qdm.model.TorchEngine;
import qdm.sae.Sae;
import qdm.sae.SaeFormat;
import qdm.spark.PlacementPolicy;
import qdm.spark.Preflight;
import qdm.spark.Sessions;
import qdm.spark.TokenizeStage;
import qdm.tokenize.Tokenizer;

/**
 * {@code qdm drift CONF}: how far each condition of an audit moves the weights, the residual at the
 * SAE's hook and the SAE's codes, on the first windows of the audit's corpus, in one JVM and
 * without writing anything. See {@link DriftProbe}.
 */
@Command(
    name = "drift",
    mixinStandardHelpOptions = true,
    description = {
      "Measure how far each condition moves weights, residual and SAE codes, on a sample.",
      "Runs the config's model and SAE over the first windows of its corpus, on this machine,",
      "and prints, per condition, ||x_c - x_fp|| / ||x_fp|| of the compressed weights, of the",
      "residual at the SAE's hook and of the SAE's codes, and the perplexity; plus how",
      "outlier-heavy the weights are (row max|w| / row RMS, kurtosis), which decides how",
      "coarse per-row RTN is. Writes nothing."
    })
final class DriftCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "CONF", description = "HOCON config file (see conf/).")
  Path config;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Override a config value (as for run). Repeatable.")
  List<String> overrides = new ArrayList<>();

  @Option(
      names = "--windows",
      defaultValue = "16",
      description =
          "Chunk windows in the sample, from the start of the corpus "
              + "(default: ${DEFAULT-VALUE}).")
  int windows;

  @Option(
      names = "--processing",
      paramLabel = "P",
      completionCandidates = Choices.Processings.class,
      description =
          "${COMPLETION-CANDIDATES}: overrides the config's qdm.model.processing "
              + "(what is done to the weights at load, before compression).")
  String processing;

  @Option(
      names = "--tensors",
      description = "Also print the outlier statistics of every " + "target tensor.")
  boolean tensors;

  @Override
  public Integer call() {
    if (windows < 1) {
      throw new QdmException("--windows must be at least 1, got " + windows);
    }
    List<String> given = new ArrayList<>(overrides);
    if (processing != null) {
      given.add("qdm.model.processing = " + Processing.parse(processing));
    }
    AuditConfig base = AuditConfigs.load(config, given);
    // tokenize only what the sample needs
    List<String> sampled = new ArrayList<>(given);
    sampled.add(
        "qdm.corpus.max-tokens = "
            + Math.min(base.corpus().maxTokens(), (long) windows * base.windows().chunkLength()));
    AuditConfig c = RunCommand.localCopies(AuditConfigs.load(config, sampled), true);
    Preflight preflight = Preflight.check(c);
    ModelFiles files = c.modelFiles();
    List<int[]> sample = new ArrayList<>();
    // the corpus is read as the audit reads it (any Hadoop filesystem, text / jsonl / parquet);
    // the session is the process's shared one (left running, as run leaves it)
    SparkSession spark = Sessions.forAudit(c);
    try (Tokenizer tokenizer = Tokenizer.load(files.tokenizer())) {
      List<Window> all = TokenizeStage.windows(spark, c, tokenizer, preflight.bosTokenId());
      TokenizeStage.checkVocabulary(all, preflight.model().vocabSize(), tokenizer);
      for (Window w : all) {
        if (w.kind().equals(Window.CHUNK) && sample.size() < windows) {
          sample.add(w.tokens());
        }
      }
    }
    Placement placement =
        PlacementPolicy.choose(c.execution().device(), c.model().dtype(), Optional.empty(), true);
    System.err.printf(
        Locale.ROOT,
        "qdm drift: %s and its SAE at %s on %s, %d windows of %d " + "tokens%n",
        c.model().path(),
        preflight.hook(),
        placement,
        sample.size(),
        c.windows().chunkLength());
    DriftReport report;
    try (NDManager root = TorchEngine.newManager(placement.device())) {
      Processing processing = Processing.parse(c.model().processing());
      try (Model model =
              Model.load(files, root, placement.device(), placement.dtype(), processing);
          Sae sae =
              Sae.load(
                  Path.of(LocalPaths.local(c.sae().path())),
                  SaeFormat.parse(c.sae().format()),
                  Optional.of(preflight.hook()),
                  root)) {
        report =
            DriftProbe.run(
                new ReferenceModel(model, files, processing, root, placement),
                sae,
                sample,
                c.conditions(),
                c.execution().batchSize(),
                line -> System.err.println("qdm drift: " + line));
      }
    }
    System.out.printf(
        Locale.ROOT,
        "model processing: %s; convention: %s%n",
        c.model().processing(),
        String.join(
            ", ",
            c.conditions().stream()
                .filter(x -> !x.isReference())
                .map(x -> x.name() + " " + x.convention())
                .toList()));
    System.out.print(report.render());
    if (tensors) {
      System.out.println();
      System.out.print(report.renderTensors());
    }
    return 0;
  }
}
