package qdm.demo;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import qdm.QdmException;
import qdm.data.Window;
import qdm.data.Windowing;
import qdm.io.HostTensor;
import qdm.io.TensorInfo;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.Nonlinearity;
import qdm.model.TorchEngine;
import qdm.model.neox.GptNeoXConfig;
import qdm.perplexity.Perplexity;
import qdm.tokenize.BpeTrainer;
import qdm.tokenize.Tokenizer;
import qdm.train.CpuKernels;
import qdm.train.LmOptions;
import qdm.train.LmTrainer;
import qdm.train.NeoxCheckpoint;
import qdm.train.Threads;
import qdm.train.TrainingRecord;
import qdm.train.UnigramBaseline;

/**
 * The demo language model, end to end: a byte-level BPE tokenizer learned from the training part of
 * the demo corpus, a GPT-NeoX model trained on it ({@link LmTrainer}), written as a Hugging Face
 * model directory, then loaded back from disk and scored on the held-out part next to a unigram
 * baseline.
 */
public final class DemoLm {
  private DemoLm() {}

  /**
   * What to build.
   *
   * @param corpus directory with {@link DemoCorpus#TRAIN} and {@link DemoCorpus#HELD_OUT}
   * @param out model directory to write
   * @param evalTokens held-out tokens scored during training (all of them at the end)
   */
  public record Spec(
      Path corpus,
      Path out,
      int vocab,
      int layers,
      int dModel,
      int heads,
      int context,
      LmOptions train,
      int threads,
      int evalTokens) {

    public Spec {
      if (heads < 1 || dModel % heads != 0) {
        throw new QdmException("--heads " + heads + " must divide --d-model " + dModel);
      }
      if ((dModel / heads) % 8 != 0) {
        throw new QdmException(
            "head dim "
                + dModel / heads
                + " (--d-model / --heads) must be "
                + "a multiple of 8 (a quarter of it rotates, in pairs)");
      }
      if (layers < 1) {
        throw new QdmException("--layers must be at least 1, got " + layers);
      }
      if (context != train.context()) {
        throw new IllegalArgumentException("context differs from the training options'");
      }
    }

    /** The GPT-NeoX configuration: Pythia's layout (parallel residual, rotary_pct 0.25). */
    public GptNeoXConfig config(int vocabSize) {
      int headDim = dModel / heads;
      return new GptNeoXConfig(
          vocabSize,
          dModel,
          layers,
          heads,
          4 * dModel,
          headDim / 4,
          10000,
          1e-5f,
          true,
          true,
          false,
          Nonlinearity.fromHf("gelu"));
    }
  }

  /** The figures the run reports. */
  public record Report(
      int vocab,
      long trainTokens,
      long heldOutTokens,
      long scoredTokens,
      double perplexity,
      double unigramPerplexity) {}

  /** Builds the tokenizer and the model into {@code spec.out()} and scores it. */
  public static Report run(Spec spec, PrintStream log) {
    Threads.set(spec.threads());
    log.println(CpuKernels.current().describe());
    String trainText = read(spec.corpus().resolve(DemoCorpus.TRAIN));
    String heldOutText = read(spec.corpus().resolve(DemoCorpus.HELD_OUT));

    log.printf(
        Locale.ROOT,
        "tokenizer: byte-level BPE, %d ids, from %s%n",
        spec.vocab(),
        spec.corpus().resolve(DemoCorpus.TRAIN));
    Path tokenizerFile = spec.out().resolve(ModelFiles.TOKENIZER);
    new BpeTrainer(spec.vocab()).train(trainText).write(tokenizerFile);
    int[] train;
    int[] heldOut;
    int vocab;
    try (Tokenizer tokenizer = Tokenizer.load(tokenizerFile)) {
      train = ints(tokenizer.encode(trainText));
      heldOut = ints(tokenizer.encode(heldOutText));
      vocab = spec.vocab();
    }
    log.printf(Locale.ROOT, "tokens: %,d training, %,d held-out%n", train.length, heldOut.length);

    GptNeoXConfig config = spec.config(vocab);
    int[] evalPrefix = Arrays.copyOf(heldOut, Math.min(heldOut.length, spec.evalTokens()));
    Map<String, HostTensor> weights =
        LmTrainer.train(
            config,
            LmTrainer.initialWeights(config, spec.train().seed()),
            train,
            evalPrefix,
            spec.train(),
            log);
    NeoxCheckpoint.write(spec.out(), config, weights, spec.context(), 0, 0);

    // score the model as written, through the loader the audit uses
    List<Window> windows = Windowing.chunks(heldOut, spec.context());
    double perplexity;
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model model = Model.load(ModelFiles.of(spec.out()), root, Device.cpu(), DataType.FLOAT32)) {
      perplexity = Perplexity.over(model.transformer(), windows, spec.train().batch()).perplexity();
    }
    double unigram = UnigramBaseline.perplexity(train, vocab, windows);
    long scored = (long) windows.size() * (spec.context() - 1);
    Report report = new Report(vocab, train.length, heldOut.length, scored, perplexity, unigram);
    log.printf(
        Locale.ROOT,
        "held-out perplexity %.2f over %,d tokens (%d chunks of %d); " + "unigram baseline %.2f%n",
        perplexity,
        scored,
        windows.size(),
        spec.context(),
        unigram);
    writeReport(spec, config, report);
    return report;
  }

  private static void writeReport(Spec spec, GptNeoXConfig config, Report r) {
    JsonObject o = new JsonObject();
    o.addProperty("corpus", DemoCorpus.PACKAGE + "@" + DemoCorpus.VERSION);
    o.addProperty("tokenizer", "byte-level BPE, " + r.vocab() + " ids");
    o.addProperty("train_tokens", r.trainTokens());
    o.addProperty("heldout_tokens", r.heldOutTokens());
    o.addProperty("heldout_scored_tokens", r.scoredTokens());
    o.addProperty("heldout_perplexity", r.perplexity());
    o.addProperty("unigram_perplexity", r.unigramPerplexity());
    o.add("options", new GsonBuilder().create().toJsonTree(spec.train()));
    o.addProperty("threads", spec.threads());
    o.addProperty(
        "parameters", config.tensors().stream().mapToLong(t -> TensorInfo.numel(t.shape())).sum());
    TrainingRecord.write(spec.out(), o);
  }

  static String read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new QdmException(
          file + ": not found (jobs/qdm demo fetch-corpus builds the demo " + "corpus)");
    }
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new QdmException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  static int[] ints(long[] ids) {
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }
}
