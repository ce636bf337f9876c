package qdm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import qdm.analysis.Analysis;
import qdm.analysis.AnalysisSettings;
import qdm.analysis.AnalysisTables;
import qdm.analysis.ConditionPair;

/**
 * {@code qdm bench analysis}: the {@code analyze} stage alone on synthetic codes, timed from a
 * Parquet scan to every output table collected, at several token counts to show how it scales.
 */
@Command(
    name = "analysis",
    mixinStandardHelpOptions = true,
    description = {
      "Time the analyze stage on synthetic SAE codes (written to Parquet, then read back).",
      "Prints seconds and code rows per second at each token count."
    })
public final class AnalysisBench implements Callable<Integer> {

  @Option(
      names = "--tokens",
      split = ",",
      defaultValue = "50000,100000,200000",
      paramLabel = "N[,N...]",
      description = "Token counts to time (default: ${DEFAULT-VALUE}).")
  List<Long> tokens;

  @Option(
      names = "--features",
      defaultValue = "16384",
      description = "SAE features d_sae (default: ${DEFAULT-VALUE}).")
  int features;

  @Option(
      names = "--l0",
      defaultValue = "60",
      description = "Non-zero features per token (default: ${DEFAULT-VALUE}).")
  int l0;

  @Option(
      names = "--conditions",
      defaultValue = "7",
      description = "Conditions, the reference included (default: ${DEFAULT-VALUE}).")
  int conditions;

  @Option(
      names = "--window",
      defaultValue = "512",
      description = "Positions per window (default: ${DEFAULT-VALUE}).")
  int window;

  @Option(
      names = "--master",
      defaultValue = "local[*]",
      description = "Spark master (default: ${DEFAULT-VALUE}).")
  String master;

  @Option(
      names = "--repeat",
      defaultValue = "2",
      description =
          "Timed runs per token count; the fastest is reported, since other load on"
              + " the machine only ever adds time (default: ${DEFAULT-VALUE}).")
  int repeat;

  @Option(
      names = "--warmup",
      defaultValue = "5000",
      paramLabel = "N",
      description =
          "Tokens of an untimed first run that warms the JIT and Spark's code"
              + " generation; 0 for none (default: ${DEFAULT-VALUE}).")
  long warmup;

  @Option(
      names = "--shuffle-partitions",
      paramLabel = "N",
      description = "spark.sql.shuffle.partitions (default: Spark's, 200).")
  Integer shufflePartitions;

  @Option(
      names = "--dir",
      paramLabel = "DIR",
      description = "Where to write the synthetic Parquet (default: a temporary directory).")
  Path dir;

  @Option(names = "--keep", description = "Keep the synthetic Parquet afterwards.")
  boolean keep;

  @Option(
      names = "--reuse",
      description = "Reuse synthetic Parquet a previous --dir ... --keep run left there.")
  boolean reuse;

  @Override
  public Integer call() throws IOException {
    Path root = dir != null ? dir : Files.createTempDirectory("qdm-bench-analysis");
    SparkSession.Builder builder =
        SparkSession.builder()
            .master(master)
            .appName("qdm-bench-analysis")
            .config("spark.ui.enabled", "false");
    if (shufflePartitions != null) {
      builder.config("spark.sql.shuffle.partitions", shufflePartitions.toString());
    }
    SparkSession spark = builder.getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    spark.sparkContext().addSparkListener(counter);
    System.out.printf(
        "qdm bench analysis: d_sae %d, L0 %d, %d conditions, window %d, %s " + "(%d cores)%n",
        features,
        l0,
        conditions,
        window,
        master,
        java.lang.Runtime.getRuntime().availableProcessors());
    List<String> lines = new ArrayList<>();
    try {
      if (warmup > 0) {
        System.out.printf("warm-up run, %,d tokens (not timed)%n", warmup);
        timeOnce(spark, root.resolve("tokens-" + warmup), warmup);
      }
      for (long n : tokens) {
        Path where = root.resolve("tokens-" + n);
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
        for (int i = 0; i < repeat; i++) {
          double[] t = timeOnce(spark, where, n);
          for (int j = 0; j < best.length; j++) {
            best[j] = Math.min(best[j], t[j]);
          }
        }
        long rows = n * l0 * conditions;
        lines.add(
            String.format(
                "%-10d %-13d %-9.1f %-11.0f %-19.1f %-15.1f %.1f",
                n, rows, best[0], rows / best[0], best[0] / (n / 100000.0), best[1], best[2]));
      }
    } finally {
      spark.stop();
      if (!keep && dir == null) {
        qdm.io.TempDirs.deleteQuietly(root);
      }
    }
    System.out.println();
    System.out.printf(
        "fastest of %d run(s) each; longest job = the survival join; cpu s ="
            + " CPU time of the whole process (all threads) during the run%n",
        repeat);
    System.out.println(
        "tokens     code rows     seconds   rows/s      s per 100k tokens   "
            + "longest job s   cpu s");
    lines.forEach(System.out::println);
    return 0;
  }

  /**
   * Writes (or reuses) the synthetic tables, then times one analysis: {wall s, longest job s,
   * process CPU s}.
   */
  private double[] timeOnce(SparkSession spark, Path where, long n) {
    SyntheticCodes synth = new SyntheticCodes(n, features, l0, window, conditions);
    String codesPath = where.resolve("codes").toString();
    String nllPath = where.resolve("token_nll").toString();
    boolean present =
        (reuse || written.contains(where))
            && Files.exists(where.resolve("codes").resolve("_SUCCESS"))
            && Files.exists(where.resolve("token_nll").resolve("_SUCCESS"));
    if (present) {
      System.out.printf("%,d tokens: reusing the synthetic Parquet in %s%n", n, where);
    } else {
      long w0 = System.nanoTime();
      synth
          .codes(spark)
          .write()
          .mode(SaveMode.Overwrite)
          .partitionBy("condition")
          .parquet(codesPath);
      synth
          .tokenNll(spark)
          .write()
          .mode(SaveMode.Overwrite)
          .partitionBy("condition", "kind")
          .parquet(nllPath);
      System.out.printf("%,d tokens: wrote synthetic Parquet in %.1f s%n", n, seconds(w0));
      written.add(where);
    }

    Dataset<Row> codes = spark.read().parquet(codesPath);
    Dataset<Row> nll = spark.read().parquet(nllPath);
    AnalysisSettings settings =
        new AnalysisSettings(
            "fp",
            features,
            0.001,
            0.9,
            0.5,
            List.of(
                new ConditionPair(
                    synth.conditions().get(Math.min(3, conditions - 1)),
                    synth.conditions().get(conditions - 1))),
            Optional.of(synth.conditions().get(Math.min(3, conditions - 1))),
            5,
            0,
            Optional.empty(),
            synth.info());
    long t0 = System.nanoTime();
    long cpu0 = qdm.bench.CpuClock.processNanos();
    counter.reset();
    AnalysisTables tables = Analysis.run(spark, codes, nll, n, settings);
    double run = seconds(t0);
    String runJobs = counter.toString();
    double runLongest = counter.longestSeconds();
    StringBuilder parts = new StringBuilder();
    for (Map.Entry<String, Dataset<Row>> e : tables.byName().entrySet()) {
      long t1 = System.nanoTime();
      counter.reset();
      int count = e.getValue().collectAsList().size();
      parts.append(
          String.format("%n  %s %.1f s (%d rows; %s)", e.getKey(), seconds(t1), count, counter));
    }
    double total = seconds(t0);
    double cpu = (qdm.bench.CpuClock.processNanos() - cpu0) / 1e9;
    System.out.printf(
        "%,d tokens: %.1f s in all (%.1f s CPU); Analysis.run %.1f s (%s), then collecting:%s%n",
        n, total, cpu, run, runJobs, parts);
    printSummary(tables);
    tables.unpersist();
    return new double[] {total, runLongest, cpu};
  }

  private static void printSummary(AnalysisTables tables) {
    for (Row r :
        tables
            .conditions()
            .select("condition", "survived_pct", "blurred_pct", "damaged_pct", "mean_r", "n_active")
            .collectAsList()) {
      System.out.printf(
          "  %-6s survived %6.2f%% blurred %6.2f%% damaged %6.2f%% mean r %.3f" + " (%d active)%n",
          r.getString(0),
          r.getDouble(1),
          r.getDouble(2),
          r.getDouble(3),
          r.getDouble(4),
          r.getLong(5));
    }
  }

  private final JobCounter counter = new JobCounter();

  /** Directories this run wrote (repeats reuse them). */
  private final Set<Path> written = new HashSet<>();

  /** Counts Spark jobs, stages and tasks, to show where the time goes. */
  private static final class JobCounter extends SparkListener {
    private final AtomicInteger jobs = new AtomicInteger();
    private final AtomicInteger stages = new AtomicInteger();
    private final AtomicLong tasks = new AtomicLong();
    private final Map<Integer, Long> started = new ConcurrentHashMap<>();
    private final AtomicLong longest = new AtomicLong();

    void reset() {
      jobs.set(0);
      stages.set(0);
      tasks.set(0);
      longest.set(0);
    }

    @Override
    public void onJobStart(SparkListenerJobStart e) {
      jobs.incrementAndGet();
      started.put(e.jobId(), e.time());
    }

    @Override
    public void onJobEnd(SparkListenerJobEnd e) {
      Long start = started.remove(e.jobId());
      if (start != null) {
        longest.accumulateAndGet(e.time() - start, Math::max);
      }
    }

    @Override
    public void onStageCompleted(SparkListenerStageCompleted e) {
      stages.incrementAndGet();
      tasks.addAndGet(e.stageInfo().numTasks());
    }

    double longestSeconds() {
      return longest.get() / 1e3;
    }

    @Override
    public String toString() {
      return String.format(
          "%d jobs, %d stages, %d tasks, longest job %.1f s",
          jobs.get(), stages.get(), tasks.get(), longest.get() / 1e3);
    }
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }
}
