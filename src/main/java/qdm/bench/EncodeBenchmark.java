package qdm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.spark.sql.SparkSession;
import qdm.QdmException;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.io.HostTensor;
import qdm.model.Capture;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.TorchEngine;
import qdm.model.neox.GptNeoXConfig;
import qdm.spark.AuditJob;
import qdm.spark.Preflight;
import qdm.spark.Sessions;
import qdm.train.LmTrainer;
import qdm.train.NeoxCheckpoint;
import qdm.train.SaeLensWriter;
import qdm.train.TrainedSae;

/**
 * Throughput of the audit's encode stage, measured by running that stage: a Pythia-70M-shaped
 * GPT-NeoX with random weights and a random SAE are written to disk, a config over the bundled
 * held-out text is made, and {@link AuditJob} runs tokenize, then (timed) encode, in Spark local
 * mode. Everything the stage does counts: loading the model in the executor, deriving each
 * compressed copy, forward passes with the NLL head, SAE encoding, writing Parquet.
 *
 * <p>The SAE's biases are calibrated on the model's own residuals so that each feature fires on
 * about {@code l0 / d_sae} of the tokens: the cost of extracting and writing sparse codes grows
 * with L0, so a random SAE that fired everywhere (or nowhere) would mislead.
 */
public final class EncodeBenchmark {

  /**
   * What to run.
   *
   * @param tokens held-out tokens to encode per condition
   * @param chunkLength tokens per window
   * @param batchSize windows per forward pass
   * @param dSae SAE features
   * @param l0 features firing per token, on average
   * @param layer the SAE's block ({@code blocks.L.hook_resid_post})
   * @param conditions compressed conditions after {@code fp}: {@code rtnN} or {@code pruneP} (P
   *     percent sparsity)
   * @param corpus text file to tokenize
   * @param tokenizer a {@code tokenizer.json} whose ids fit the model's vocabulary
   * @param workDir where the model, SAE and run outputs go
   * @param master Spark master
   */
  public record Options(
      int tokens,
      int chunkLength,
      int batchSize,
      int dSae,
      int l0,
      int layer,
      List<String> conditions,
      Path corpus,
      Path tokenizer,
      Path workDir,
      String master) {
    public Options {
      if (tokens < chunkLength || chunkLength < 2) {
        throw new QdmException("--tokens must be at least --chunk-length, which must be >= 2");
      }
      if (l0 < 1 || l0 >= dSae) {
        throw new QdmException("--l0 must be between 1 and --d-sae - 1");
      }
      if (layer < 0 || layer >= ForwardBenchmark.pythia70m().numLayers()) {
        throw new QdmException("--layer must be a block of Pythia-70M (0..5)");
      }
      for (Path p : List.of(corpus, tokenizer)) {
        if (!Files.isRegularFile(p)) {
          throw new QdmException(
              p
                  + ": no such file (run from the repository root, or pass "
                  + "--corpus / --tokenizer)");
        }
      }
      conditions.forEach(EncodeBenchmark::conditionHocon); // fails early on a bad name
    }
  }

  /**
   * Figures of one run.
   *
   * @param analyzeSeconds the analyze stage alone (NaN when not timed)
   * @param baselineTokensPerSecond the plain forward pass (with the NLL head) and SAE encoding of
   *     one model over the same windows, in this JVM with every core (NaN when not measured)
   */
  public record Result(
      long tokensPerCondition,
      int conditions,
      double encodeSeconds,
      double cpuCores,
      double analyzeSeconds,
      double baselineTokensPerSecond) {
    public double tokenConditionsPerSecond() {
      return tokensPerCondition * conditions / encodeSeconds;
    }
  }

  private EncodeBenchmark() {}

  /** Writes the model, SAE and config under {@code workDir}, then runs and times the stage. */
  public static Result run(Options o, PrintStream log) {
    return run(o, log, false);
  }

  /**
   * As {@link #run(Options, PrintStream)}; with {@code sweep}, also times the analyze stage alone
   * and measures the plain forward + SAE rate over the same windows (for {@code bench sweep}).
   */
  public static Result run(Options o, PrintStream log, boolean sweep) {
    return run(o, log, sweep, 1);
  }

  /**
   * As {@link #run(Options, PrintStream, boolean)} with {@code saes} copies of the SAE, each its
   * own named SAE of the audit (same width and hook): what measuring several SAEs costs.
   */
  public static Result run(Options o, PrintStream log, boolean sweep, int saes) {
    Path model = o.workDir().resolve("model");
    Path sae = o.workDir().resolve("sae");
    GptNeoXConfig config = ForwardBenchmark.pythia70m();
    long t0 = System.nanoTime();
    writeModel(model, config, o.tokenizer());
    writeSae(sae, model, o);
    log.printf(
        Locale.ROOT,
        "qdm bench encode: wrote the random model and SAE in %.1f s%n",
        (System.nanoTime() - t0) / 1e9);

    AuditConfig audit = AuditConfigs.parse(hocon(o, model, sae, saes), List.of(), "bench encode");
    Preflight preflight = Preflight.check(audit);
    SparkSession spark = Sessions.forAudit(audit);
    AuditJob job = new AuditJob(spark, audit, preflight, true);
    job.run(List.of("tokenize"));
    long cpu0 = CpuClock.processNanos();
    long wall0 = System.nanoTime();
    job.run(List.of("encode"));
    long wall = System.nanoTime() - wall0;
    double cores = CpuClock.coresSince(cpu0, wall0);
    long tokens = (long) (o.tokens() / o.chunkLength()) * o.chunkLength();
    double analyze = Double.NaN;
    double baseline = Double.NaN;
    if (sweep) {
      long a0 = System.nanoTime();
      job.run(List.of("analyze"));
      analyze = (System.nanoTime() - a0) / 1e9;
      baseline = forwardAndSaeRate(model, sae, o, (int) (tokens / o.chunkLength()));
    }
    return new Result(
        tokens, AuditJob.encodeOrder(audit).size(), wall / 1e9, cores, analyze, baseline);
  }

  /**
   * Tokens per second of the plain work one condition needs: the forward pass with the NLL head and
   * the SAE's sparse codes, batch after batch in this JVM, libtorch using every core. Windows of
   * random token ids (the cost does not depend on which tokens).
   */
  static double forwardAndSaeRate(Path modelDir, Path saeDir, Options o, int windows) {
    ai.djl.pytorch.jni.JniUtils.setNumThreads(Runtime.getRuntime().availableProcessors());
    Random random = new Random(2);
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model m = Model.load(ModelFiles.of(modelDir), root, Device.cpu(), DataType.FLOAT32);
        qdm.sae.Sae sae =
            qdm.sae.Sae.load(saeDir, qdm.sae.SaeFormat.AUTO, java.util.Optional.empty(), root)) {
      long start = 0;
      long tokens = 0;
      for (int w = -o.batchSize(); w < windows; w += o.batchSize()) { // one batch of warm-up
        if (w == 0) {
          start = System.nanoTime();
        }
        int n = Math.min(o.batchSize(), Math.max(1, windows - Math.max(w, 0)));
        long[] ids = new long[n * o.chunkLength()];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = random.nextInt(4096);
        }
        try (NDManager b = root.newSubManager()) {
          var acts =
              m.transformer()
                  .forward(
                      b.create(ids, new Shape(n, o.chunkLength())), Capture.atAndNll(sae.hook()));
          acts.nll().orElseThrow().toFloatArray();
          sae.encodeSparse(acts.at(sae.hook()));
        }
        if (w >= 0) {
          tokens += ids.length;
        }
      }
      return tokens / ((System.nanoTime() - start) / 1e9);
    }
  }

  /** Random Pythia-70M-shaped weights (the trainer's initialisation) and the given tokenizer. */
  static void writeModel(Path dir, GptNeoXConfig config, Path tokenizer) {
    NeoxCheckpoint.write(dir, config, LmTrainer.initialWeights(config, 0), 2048, 0, 0);
    try {
      Files.copy(tokenizer, dir.resolve(ModelFiles.TOKENIZER));
    } catch (IOException e) {
      throw new QdmException(tokenizer + ": cannot copy into " + dir + ": " + e.getMessage());
    }
  }

  /**
   * A standard SAE with normal W_enc and W_dec (std 1/sqrt(d_in)), b_dec 0, and b_enc set per
   * feature to minus the (1 - l0/d_sae) quantile of its pre-activation over the model's residuals
   * on sample tokens, so each feature fires on about that fraction of tokens.
   */
  static void writeSae(Path dir, Path modelDir, Options o) {
    int dIn = ForwardBenchmark.pythia70m().hiddenSize();
    int dSae = o.dSae();
    Random random = new Random(1);
    float std = (float) (1 / Math.sqrt(dIn));
    HostTensor wEnc = normal(random, std, dIn, dSae);
    HostTensor wDec = normal(random, std, dSae, dIn);
    int sampleTokens = 4 * 512;
    float[] bEnc;
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model m = Model.load(ModelFiles.of(modelDir), root, Device.cpu(), DataType.FLOAT32);
        NDManager b = root.newSubManager()) {
      long[] ids = new long[sampleTokens];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = random.nextInt(4096);
      }
      NDArray x =
          m.transformer()
              .forward(b.create(ids, new Shape(4, 512)), Capture.residualAt(o.layer()))
              .residPost(o.layer())
              .reshape(sampleTokens, dIn);
      bEnc =
          firingBias(x.matMul(b.create(wEnc.data(), new Shape(dIn, dSae))), (double) o.l0() / dSae);
    }
    TrainedSae weights =
        new TrainedSae(
            "standard",
            wEnc,
            new HostTensor(new long[] {dSae}, bEnc),
            wDec,
            new HostTensor(new long[] {dIn}, new float[dIn]),
            0);
    SaeLensWriter.write(
        dir,
        weights,
        new SaeLensWriter.Meta(
            "pythia-70m-shaped (random)",
            "blocks." + o.layer() + ".hook_resid_post",
            o.layer(),
            o.chunkLength(),
            false,
            "random calibration tokens"));
  }

  /**
   * Per-column biases {@code b} such that {@code pre[:, j] + b[j] > 0} on about a fraction {@code
   * rate} of the rows of {@code pre} [n, d]: minus each column's (1 - rate) quantile.
   */
  static float[] firingBias(NDArray pre, double rate) {
    long n = pre.getShape().get(0);
    long row = Math.min(n - 1, Math.round(n * (1 - rate)));
    return pre.sort(0).get(row).neg().toFloatArray();
  }

  private static HostTensor normal(Random random, float std, int rows, int cols) {
    float[] data = new float[rows * cols];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) random.nextGaussian() * std;
    }
    return new HostTensor(new long[] {rows, cols}, data);
  }

  static String hocon(Options o, Path model, Path sae) {
    return hocon(o, model, sae, 1);
  }

  /** The bench's audit config, with {@code saes} named copies of the SAE when more than one. */
  static String hocon(Options o, Path model, Path sae, int saes) {
    String saeKeys = "sae.path = " + quote(sae);
    if (saes > 1) {
      StringBuilder list = new StringBuilder("saes = [");
      for (int i = 1; i <= saes; i++) {
        list.append(i > 1 ? ", " : " ") // (objects side by side without a comma would merge)
            .append("{ name = sae")
            .append(i)
            .append(", path = ")
            .append(quote(sae))
            .append(" }");
      }
      saeKeys = list.append(" ]").toString();
    }
    StringBuilder conditions = new StringBuilder("{ name = fp, method = none }\n");
    o.conditions().forEach(c -> conditions.append(conditionHocon(c)).append('\n'));
    return String.format(
        Locale.ROOT,
        """
        qdm {
          run-name = bench-encode
          output = %s
          model.path = %s
          %s
          corpus { paths = [%s], max-tokens = %d }
          windows { chunk-length = %d, sliding.enabled = false }
          conditions = [
        %s  ]
          analysis.null-run = false
          execution.batch-size = %d
          spark.master = %s
        }
        """,
        quote(o.workDir().resolve("out")),
        quote(model),
        saeKeys,
        quote(o.corpus()),
        o.tokens(),
        o.chunkLength(),
        conditions,
        o.batchSize(),
        quote(o.master()));
  }

  /** {@code rtnN} (N-bit round-to-nearest) or {@code pruneP} (P% magnitude pruning). */
  static String conditionHocon(String name) {
    if (name.matches("rtn[2-8]")) {
      return "{ name = " + name + ", method = rtn, bits = " + name.substring(3) + " }";
    }
    if (name.matches("prune[1-9][0-9]?")) {
      return "{ name = "
          + name
          + ", method = prune, sparsity = "
          + Integer.parseInt(name.substring(5)) / 100.0
          + " }";
    }
    throw new QdmException(
        "--conditions: '" + name + "' is not rtnN (N in 2..8) or pruneP " + "(P percent, 1..99)");
  }

  private static String quote(Object o) {
    return '"' + o.toString().replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }
}
