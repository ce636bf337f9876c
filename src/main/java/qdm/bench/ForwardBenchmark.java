package qdm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import qdm.QdmException;
import qdm.model.Capture;
import qdm.model.Model;
import qdm.model.ModelConfig;
import qdm.model.TensorRole;
import qdm.model.TensorSpec;
import qdm.model.TorchEngine;
import qdm.model.Transformer;
import qdm.model.neox.GptNeoXConfig;

/**
 * Forward-pass throughput of a Pythia-70M-shaped GPT-NeoX with random weights, set against this
 * machine's float32 matmul throughput measured in the same run through the same engine.
 *
 * <p>Why a ratio: tokens/s alone depends on the machine; the fraction of the matmul peak says how
 * much the forward pass loses outside the matmuls (copies, elementwise ops, softmax, NLL).
 */
public final class ForwardBenchmark {

  /**
   * What to run.
   *
   * @param batch sequences per forward pass
   * @param seqLen tokens per sequence
   * @param stopLayer the block after which the truncated pass stops (as an SAE-codes pass does)
   * @param warmup untimed passes before timing
   * @param iterations timed passes of each kind
   * @param threads libtorch intra-op threads, or 0 for the engine's default (one per core)
   */
  public record Options(
      int batch, int seqLen, int stopLayer, int warmup, int iterations, int threads) {
    public Options {
      if (threads < 0) {
        throw new QdmException("--threads must be >= 0 (0: the engine's default)");
      }
      if (batch < 1 || seqLen < 2) {
        throw new QdmException("--batch must be >= 1 and --seq-len >= 2");
      }
      if (warmup < 0 || iterations < 1) {
        throw new QdmException("--warmup must be >= 0 and --iterations >= 1");
      }
    }
  }

  /**
   * Seconds of each timed run: wall clock, and the process's CPU time divided by the engine's
   * thread count. On an idle machine the two agree; on a shared one the CPU-time figure is what the
   * run would take with its cores to itself, so it is reported too (and used for a second fraction)
   * when other processes compete for the cores.
   */
  public record Timing(double[] wall, double[] cpu) {
    public Timing {
      wall = wall.clone();
      cpu = cpu.clone();
      if (wall.length == 0 || wall.length != cpu.length) {
        throw new IllegalArgumentException("need one wall and one CPU time per run");
      }
    }

    public double medianWall() {
      return median(wall);
    }

    public double medianCpu() {
      return median(cpu);
    }

    public double bestWall() {
      return Arrays.stream(wall).min().orElseThrow();
    }

    public double bestCpu() {
      return Arrays.stream(cpu).min().orElseThrow();
    }

    private static double median(double[] values) {
      double[] s = values.clone();
      Arrays.sort(s);
      int n = s.length;
      return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
  }

  /** A clock for {@link Timing}: wall time and process CPU time per engine thread. */
  private static final class Clock {
    private final com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    private final int threads = Math.max(1, ai.djl.pytorch.jni.JniUtils.getNumThreads());
    private long wall0;
    private long cpu0;

    void start() {
      wall0 = System.nanoTime();
      cpu0 = os.getProcessCpuTime();
    }

    double wall() {
      return (System.nanoTime() - wall0) / 1e9;
    }

    double cpu() {
      return (os.getProcessCpuTime() - cpu0) / 1e9 / threads;
    }
  }

  private ForwardBenchmark() {}

  /** Pythia-70M's shape: 6 layers, d_model 512, 8 heads, d_mlp 2048, vocab 50304. */
  public static GptNeoXConfig pythia70m() {
    return new GptNeoXConfig(
        50304, 512, 6, 8, 2048, 16, 10000, 1e-5f, true, true, false, qdm.model.Nonlinearity.GELU);
  }

  /**
   * Floating point operations per token of a forward pass over {@code seqLen} tokens, running
   * {@code layers} blocks, with or without the unembedding: 2 per multiply-add of every decoder
   * linear weight and of the LM head, plus the attention products QK^T and PV, each {@code 2 *
   * seqLen * attentionWidth} per token and layer. The attention terms count the full T x T score
   * matrix, which is what the implementation computes (the causal mask is additive). Elementwise
   * ops, norms and softmax are not counted.
   */
  public static double flopsPerToken(
      ModelConfig config, long attentionWidth, int seqLen, int layers, boolean head) {
    double perLayerParams = 0;
    double headParams = 0;
    for (TensorSpec spec : config.tensors()) {
      long numel = Arrays.stream(spec.shape()).reduce(1, Math::multiplyExact);
      if (spec.role() == TensorRole.DECODER_LINEAR) {
        perLayerParams += numel;
      } else if (spec.role() == TensorRole.LM_HEAD && head) {
        headParams += numel;
      }
    }
    perLayerParams /= config.numLayers();
    double attention = 2.0 * 2.0 * seqLen * attentionWidth;
    return layers * (2 * perLayerParams + attention) + 2 * headParams;
  }

  /** Timings of {@code reps} float32 products [m, k] x [k, n] after one warm-up product. */
  public static Timing timeMatmul(NDManager manager, int m, int k, int n, int reps) {
    Clock clock = new Clock();
    double[] wall = new double[reps];
    double[] cpu = new double[reps];
    try (NDManager scratch = manager.newSubManager()) {
      NDArray a = scratch.randomNormal(new Shape(m, k));
      NDArray b = scratch.randomNormal(new Shape(k, n));
      a.matMul(b).close();
      for (int i = 0; i < reps; i++) {
        clock.start();
        NDArray c = a.matMul(b);
        c.getFloat(0, 0); // the product is done once a value is read back
        wall[i] = clock.wall();
        cpu[i] = clock.cpu();
        c.close();
      }
    }
    return new Timing(wall, cpu);
  }

  /** Times {@code options.iterations()} forward passes capturing {@code capture}. */
  public static Timing time(Transformer model, NDManager parent, Options options, Capture capture) {
    long[] ids = new long[options.batch() * options.seqLen()];
    java.util.Random random = new java.util.Random(1);
    for (int i = 0; i < ids.length; i++) {
      ids[i] = random.nextInt(model.config().vocabSize());
    }
    Clock clock = new Clock();
    List<double[]> runs = new ArrayList<>();
    for (int i = 0; i < options.warmup() + options.iterations(); i++) {
      try (NDManager batch = parent.newSubManager()) {
        clock.start();
        NDArray tokens = batch.create(ids, new Shape(options.batch(), options.seqLen()));
        var a = model.forward(tokens, capture);
        // read a result back so the pass is complete, as a real caller would
        if (capture.nll()) {
          a.nll().orElseThrow().toFloatArray();
        } else {
          a.residPost(options.stopLayer()).getFloat(0, 0, 0);
        }
        if (i >= options.warmup()) {
          runs.add(new double[] {clock.wall(), clock.cpu()});
        }
      }
    }
    return new Timing(
        runs.stream().mapToDouble(r -> r[0]).toArray(),
        runs.stream().mapToDouble(r -> r[1]).toArray());
  }

  /** Runs the whole benchmark on the CPU and prints its figures to {@code out}. */
  public static void run(Options options, PrintStream out) {
    GptNeoXConfig config = pythia70m();
    if (options.stopLayer() < 0 || options.stopLayer() >= config.numLayers()) {
      throw new QdmException("--stop-layer must be in [0, " + config.numLayers() + ")");
    }
    long tokens = (long) options.batch() * options.seqLen();
    out.printf(
        Locale.ROOT,
        "model: GPT-NeoX %d layers, d_model %d, %d heads, d_mlp %d, vocab %d,"
            + " random weights, float32 on CPU%n",
        config.numLayers(),
        config.hiddenSize(),
        config.numHeads(),
        config.intermediateSize(),
        config.vocabSize());
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model model = Model.random(config, root, Device.cpu(), DataType.FLOAT32, 0.02f, 1)) {
      if (options.threads() > 0) {
        ai.djl.pytorch.jni.JniUtils.setNumThreads(options.threads());
      }
      out.printf(
          Locale.ROOT,
          "batch %d x T %d = %d tokens per pass; %d warmup, %d timed passes"
              + " each; torch intra-op threads: %d; OMP_WAIT_POLICY=%s; %d cores; load average"
              + " %.1f%n",
          options.batch(),
          options.seqLen(),
          tokens,
          options.warmup(),
          options.iterations(),
          ai.djl.pytorch.jni.JniUtils.getNumThreads(),
          System.getenv().getOrDefault("OMP_WAIT_POLICY", "(unset)"),
          java.lang.Runtime.getRuntime().availableProcessors(),
          java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      // The matmul figure is taken before, between and after the forward timings and the best
      // one is the reference, so a busy machine lowers the fractions rather than raising them.
      double[] peak = {0, 0}; // wall, CPU time
      Runnable matmuls =
          () -> {
            double flopsA = 2.0 * 4096 * 512 * 2048;
            double flopsB = 2.0 * 2048 * 2048 * 2048;
            Timing a = timeMatmul(root, 4096, 512, 2048, 5);
            Timing b = timeMatmul(root, 2048, 2048, 2048, 5);
            peak[0] =
                Math.max(peak[0], Math.max(flopsA / a.bestWall(), flopsB / b.bestWall()) / 1e9);
            peak[1] = Math.max(peak[1], Math.max(flopsA / a.bestCpu(), flopsB / b.bestCpu()) / 1e9);
            out.printf(
                Locale.ROOT,
                "matmul float32 (DJL, best of 5), GFLOP/s wall (CPU time):"
                    + " [4096x512]x[512x2048] %.1f (%.1f), [2048x2048]x[2048x2048] %.1f (%.1f)%n",
                flopsA / a.bestWall() / 1e9,
                flopsA / a.bestCpu() / 1e9,
                flopsB / b.bestWall() / 1e9,
                flopsB / b.bestCpu() / 1e9);
          };
      matmuls.run();
      Transformer t = model.transformer();
      long width = config.hiddenSize();
      Timing full = time(t, root, options, Capture.nllOnly());
      matmuls.run();
      Timing truncated = time(t, root, options, Capture.residualAt(options.stopLayer()));
      matmuls.run();
      out.printf(
          Locale.ROOT,
          "reference matmul figure (best of the above): %.1f GFLOP/s wall,"
              + " %.1f GFLOP/s by CPU time%n",
          peak[0],
          peak[1]);
      report(
          out,
          "full forward + NLL (Capture.nllOnly)",
          full,
          tokens,
          flopsPerToken(config, width, options.seqLen(), config.numLayers(), true),
          peak);
      report(
          out,
          "forward stopped after block " + options.stopLayer() + " (Capture.residualAt)",
          truncated,
          tokens,
          flopsPerToken(config, width, options.seqLen(), options.stopLayer() + 1, false),
          peak);
    }
  }

  private static void report(
      PrintStream out,
      String what,
      Timing timing,
      long tokens,
      double flopsPerToken,
      double[] peak) {
    double wallTokens = tokens / timing.medianWall();
    double cpuTokens = tokens / timing.medianCpu();
    double wallGflops = wallTokens * flopsPerToken / 1e9;
    double cpuGflops = cpuTokens * flopsPerToken / 1e9;
    out.printf(Locale.ROOT, "%s: %.1f MFLOP/token%n", what, flopsPerToken / 1e6);
    out.printf(
        Locale.ROOT,
        "  wall:     median %.3f s/pass (best %.3f), %.0f tokens/s, %.1f"
            + " GFLOP/s = %.1f%% of the matmul figure%n",
        timing.medianWall(),
        timing.bestWall(),
        wallTokens,
        wallGflops,
        100 * wallGflops / peak[0]);
    out.printf(
        Locale.ROOT,
        "  CPU time: median %.3f s/pass (best %.3f), %.0f tokens/s, %.1f"
            + " GFLOP/s = %.1f%% of the matmul figure%n",
        timing.medianCpu(),
        timing.bestCpu(),
        cpuTokens,
        cpuGflops,
        100 * cpuGflops / peak[1]);
  }
}
