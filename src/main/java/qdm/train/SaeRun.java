package qdm.train;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import qdm.QdmException;
import qdm.data.TokenStream;
import qdm.io.HostTensor;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.TorchEngine;
import qdm.tokenize.Tokenizer;

/**
 * Trains an SAE for a model end to end: text files tokenized with the model's tokenizer (joined by
 * blank lines, no special tokens, as the audit does), the residual stream at the hook gathered in
 * windows of {@code context} tokens, {@link SaeTrainer}, then evaluation on held-out text and a
 * SAELens directory.
 */
public final class SaeRun {
  /** How documents are joined before tokenizing (the audit's default separator). */
  static final String SEPARATOR = "\n\n";

  private SaeRun() {}

  /**
   * What to train.
   *
   * @param corpus text files to train on
   * @param evalCorpus held-out text files to evaluate on (may be empty)
   * @param maxTokens activation rows gathered for training
   * @param evalTokens activation rows gathered for evaluation
   * @param forwardBatch windows per forward pass while gathering
   * @param modelName recorded in {@code cfg.json}
   * @param dataset recorded in {@code cfg.json}
   */
  public record Spec(
      Path model,
      String hook,
      List<Path> corpus,
      List<Path> evalCorpus,
      Path out,
      int context,
      long maxTokens,
      long evalTokens,
      int forwardBatch,
      SaeOptions sae,
      int threads,
      String modelName,
      String dataset) {

    public Spec {
      corpus = List.copyOf(corpus);
      evalCorpus = List.copyOf(evalCorpus);
      LmOptions.require(!corpus.isEmpty(), "--corpus needs at least one text file");
      LmOptions.require(context >= 1, "--context must be at least 1, got " + context);
      LmOptions.require(maxTokens >= context, "--max-tokens must be at least --context");
      LmOptions.require(forwardBatch >= 1, "--forward-batch must be at least 1");
    }
  }

  /** Trains, evaluates and writes; returns the held-out metrics (null without eval text). */
  public static SaeMetrics run(Spec spec, PrintStream log) {
    Threads.set(spec.threads());
    log.println(CpuKernels.current().describe());
    ModelFiles files = ModelFiles.of(spec.model());
    TrainedSae sae;
    SaeMetrics heldOut = null;
    SaeMetrics train;
    int layer;
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model model = Model.load(files, root, Device.cpu(), DataType.FLOAT32);
        Tokenizer tokenizer = Tokenizer.load(files.tokenizer())) {
      layer = ResidualActivations.layerOf(spec.hook(), model.config().numLayers());
      int[] stream =
          TokenStream.build(documents(spec.corpus()), tokenizer, SEPARATOR, spec.maxTokens());
      log.printf(
          Locale.ROOT,
          "activations: %s at %s over %,d tokens (windows of %d)%n",
          spec.model(),
          spec.hook(),
          stream.length / spec.context() * spec.context(),
          spec.context());
      HostTensor acts =
          ResidualActivations.collect(
              model.transformer(),
              stream,
              layer,
              spec.context(),
              spec.maxTokens(),
              spec.forwardBatch());
      SaeOptions o = spec.sae();
      log.printf(
          Locale.ROOT,
          "training a %s SAE: d_in %d, d_sae %d, %d steps of %d rows%n",
          o.architecture(),
          acts.dim(1),
          o.dSae(),
          o.steps(),
          o.batch());
      sae = SaeTrainer.train(acts, o, log);
      train = SaeMetrics.evaluate(sae, acts, 4096);
      print(log, "training rows", train);
      if (!spec.evalCorpus().isEmpty()) {
        int[] evalStream =
            TokenStream.build(
                documents(spec.evalCorpus()), tokenizer, SEPARATOR, spec.evalTokens());
        HostTensor evalActs =
            ResidualActivations.collect(
                model.transformer(),
                evalStream,
                layer,
                spec.context(),
                spec.evalTokens(),
                spec.forwardBatch());
        heldOut = SaeMetrics.evaluate(sae, evalActs, 4096);
        print(log, "held-out rows", heldOut);
      }
    }
    SaeLensWriter.write(
        spec.out(),
        sae,
        new SaeLensWriter.Meta(
            spec.modelName(), spec.hook(), layer, spec.context(), false, spec.dataset()));
    writeReport(spec, train, heldOut);
    return heldOut;
  }

  private static void print(PrintStream log, String label, SaeMetrics m) {
    log.printf(
        Locale.ROOT,
        "%s (%,d): L0 %.1f  FVU %.4f  dead %.2f%%  active (rate > %.3f) " + "%.1f%%%n",
        label,
        m.tokens(),
        m.l0(),
        m.fvu(),
        100 * m.deadFraction(),
        SaeMetrics.ACTIVE_RATE,
        100 * m.activeFraction());
  }

  private static void writeReport(Spec spec, SaeMetrics train, SaeMetrics heldOut) {
    JsonObject o = new JsonObject();
    o.addProperty("model", spec.model().toString());
    o.addProperty("hook", spec.hook());
    o.addProperty("dataset", spec.dataset());
    o.addProperty("context", spec.context());
    o.add("options", new GsonBuilder().create().toJsonTree(spec.sae()));
    o.addProperty("threads", spec.threads());
    o.add("train_metrics", new GsonBuilder().create().toJsonTree(train));
    if (heldOut != null) {
      o.add("heldout_metrics", new GsonBuilder().create().toJsonTree(heldOut));
    }
    TrainingRecord.write(spec.out(), o);
  }

  /** The contents of text files, one document per file, read lazily. */
  static Iterator<String> documents(List<Path> files) {
    for (Path f : files) {
      if (!Files.isRegularFile(f)) {
        throw new QdmException(f + ": corpus file not found");
      }
    }
    Iterator<Path> it = files.iterator();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public String next() {
        Path f = it.next();
        try {
          return qdm.data.CorpusText.decodeText(Files.readAllBytes(f), f.toString());
        } catch (IOException e) {
          throw new QdmException(f + ": cannot read: " + e.getMessage(), e);
        }
      }
    };
  }
}
