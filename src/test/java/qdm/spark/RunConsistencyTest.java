package qdm.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.analysis.AnalysisTables;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.testing.Cli;
import qdm.testing.LocalSpark;
import qdm.testing.TinyAudit;

/**
 * A run directory after an interruption or a re-run with another configuration either shows one
 * complete configuration or is visibly incomplete ({@link RunState}), and a re-run resumes to the
 * tables an uninterrupted run writes: the interruption cases of {@code docs/bad-inputs.md}.
 * Interruptions are real: Spark jobs cancelled in the middle of a stage, and Ctrl-C (SIGINT) sent
 * to a QDM process.
 */
class RunConsistencyTest {
  @TempDir static Path tmp;
  static TinyAudit audit;
  static SparkSession spark;

  @BeforeAll
  static void files() {
    audit = TinyAudit.create(tmp.resolve("files"), 1600);
    spark = LocalSpark.get();
  }

  private static AuditConfig config(String run, String... overrides) {
    return AuditConfigs.parse(audit.config(run, 512), List.of(overrides), "tiny.conf");
  }

  private static RunLayout run(AuditConfig c) {
    AuditJob job = new AuditJob(spark, c, Preflight.check(c), false);
    job.run(List.of());
    return job.layout();
  }

  private static List<Row> conditions(RunLayout layout) {
    return spark
        .read()
        .parquet(layout.table("conditions").toString())
        .orderBy("condition")
        .collectAsList();
  }

  private static Set<String> children(RunLayout layout, String dir) {
    return new TreeSet<>(layout.children(layout.table(dir)));
  }

  /**
   * {@code rerun-changed-setting-interrupted}: a finished run re-run with another {@code
   * survived-above}, its analyze stage cancelled halfway, keeps no report, no analysis table, no
   * report record and no {@code config.conf} of the old setting; {@code inspect} warns and {@code
   * verify} refuses; re-running resumes to exactly the tables of a fresh run.
   */
  @Test
  void anInterruptedRerunIsVisiblyIncompleteAndResumesToTheFreshTables() throws Exception {
    RunLayout layout = run(config("changed"));
    assertTrue(RunState.of(layout).complete());

    AuditConfig changed = config("changed", "analysis.survived-above=0.999");
    AtomicBoolean cancelled = new AtomicBoolean();
    SparkListener cancelInAnalyze =
        new SparkListener() {
          @Override
          public void onJobStart(SparkListenerJobStart start) {
            if (CurrentStep.current().equals("analyze") && cancelled.compareAndSet(false, true)) {
              spark.sparkContext().cancelJob(start.jobId());
            }
          }
        };
    spark.sparkContext().addSparkListener(cancelInAnalyze);
    try {
      assertThrows(
          Exception.class,
          () -> new AuditJob(spark, changed, Preflight.check(changed), false).run(List.of()));
    } finally {
      spark.sparkContext().removeSparkListener(cancelInAnalyze);
    }
    assertTrue(cancelled.get(), "the analyze stage was interrupted");

    RunState state = RunState.of(layout);
    assertFalse(state.complete(), state.describe());
    for (String gone :
        List.of("report", "config.conf", "_stages/report.json", "_stages/analyze.json")) {
      assertFalse(layout.exists(layout.table(gone)), gone + " of the old setting is left");
    }
    for (String t : AnalysisTables.NAMES) {
      assertFalse(layout.exists(layout.table(t)), "analysis table " + t + " is left");
    }
    Path conf = tmp.resolve("changed.conf");
    Files.writeString(conf, changed.text());
    Cli.Result inspect = Cli.run("inspect", layout.table("windows").toString(), "--rows", "0");
    assertEquals(0, inspect.exit(), inspect.all());
    assertTrue(inspect.err().contains("incomplete"), inspect.all());
    Cli.Result verify = Cli.run("verify", conf.toString());
    assertEquals(2, verify.exit(), verify.all());
    assertTrue(verify.err().contains("incomplete"), verify.all());

    // resume: the same command again
    run(changed);
    assertTrue(RunState.of(layout).complete());
    assertEquals(0, Cli.run("verify", conf.toString()).exit());
    RunLayout fresh = run(config("changed-fresh", "analysis.survived-above=0.999"));
    assertEquals(conditions(fresh), conditions(layout));
    assertEquals(
        Files.readString(Path.of(fresh.table("report/conditions.csv").toUri())),
        Files.readString(Path.of(layout.table("report/conditions.csv").toUri())));
  }

  /**
   * {@code rerun-bad-corpus}: a finished run re-run after its corpus file was replaced by one that
   * is not text fails with one message and leaves the complete run exactly as it was; the edited
   * file is noticed even though its path did not change.
   */
  @Test
  void aRerunThatFailsOnItsCorpusLeavesTheCompleteRunAsItWas() throws Exception {
    TinyAudit own = TinyAudit.create(tmp.resolve("corpus-case"), 1200);
    Path conf = tmp.resolve("corpus-case.conf");
    Files.writeString(conf, own.config("corpus-case", 256));
    Cli.Result first = Cli.run("run", conf.toString());
    assertEquals(0, first.exit(), first.all());
    RunLayout layout =
        new RunLayout(
            own.output().toString(), "corpus-case", spark.sparkContext().hadoopConfiguration());
    String csv = Files.readString(Path.of(layout.table("report/conditions.csv").toUri()));
    Set<String> before = children(layout, "_stages");

    Path a = own.corpus().resolve("a.txt");
    byte[] text = Files.readAllBytes(a);
    text[10] = 0;
    Files.write(a, text);
    Cli.Result bad = Cli.run("run", conf.toString());
    assertEquals(2, bad.exit(), bad.all());
    assertTrue(bad.err().contains("a.txt: byte offset 10 is a NUL byte"), bad.all());
    assertTrue(RunState.of(layout).complete(), RunState.of(layout).describe());
    assertEquals(before, children(layout, "_stages"));
    assertEquals(csv, Files.readString(Path.of(layout.table("report/conditions.csv").toUri())));
  }

  /**
   * {@code rerun-fewer-conditions}: re-running with another list of conditions removes the old
   * conditions' partitions and records, says so, and the tables hold only the configured ones.
   */
  @Test
  void aRerunWithOtherConditionsKeepsOnlyTheConfiguredOnes() throws Exception {
    RunLayout layout = run(config("fewer"));
    assertTrue(partitions(layout, "codes").contains("condition=rtn3"));
    Path conf = tmp.resolve("fewer.conf");
    String text =
        audit
            .config("fewer", 512)
            .replaceAll(
                "(?s)conditions = \\[.*?\\n\\s*\\]",
                "conditions = [ { name = fp, method = none }, { name = rtn4, method = rtn, bits = 4 } ]");
    Files.writeString(conf, text);
    Cli.Result r = Cli.run("run", conf.toString());
    assertEquals(0, r.exit(), r.all());
    assertTrue(
        r.err()
            .contains(
                "removing the outputs of conditions this configuration no "
                    + "longer has: prune-matched, rtn3, rtn8"),
        r.all());
    Set<String> expected = Set.of("condition=fp", "condition=fp-null", "condition=rtn4");
    assertEquals(expected, partitions(layout, "codes"));
    assertEquals(expected, partitions(layout, "token_nll"));
    assertFalse(
        layout.exists(layout.table("matched_search")), "no matched search is configured any more");
    assertEquals(
        Set.of("analyze.json", "encode.json", "report.json", "tokenize.json"),
        children(layout, "_stages"));
    assertEquals(
        List.of("fp", "fp-null", "rtn4"),
        conditions(layout).stream().map(row -> row.<String>getAs("condition")).toList());
    assertEquals(
        Set.of("fp", "fp-null", "rtn4"),
        new TreeSet<>(
            spark
                .read()
                .parquet(layout.table("feature_survival").toString())
                .select("condition")
                .distinct()
                .collectAsList()
                .stream()
                .map(row -> row.getString(0))
                .toList()));
    String csv = Files.readString(Path.of(layout.table("report/conditions.csv").toUri()));
    assertFalse(csv.contains("rtn3") || csv.contains("rtn8"), csv);
  }

  /**
   * The {@code condition=...} partition directories of a table (under each {@code sae=...} one for
   * {@code codes}).
   */
  private static Set<String> partitions(RunLayout layout, String table) {
    Set<String> out = new TreeSet<>();
    for (String child : children(layout, table)) {
      if (child.startsWith("sae=")) {
        out.addAll(children(layout, table + "/" + child));
      } else {
        out.add(child);
      }
    }
    out.removeIf(n -> !n.startsWith("condition="));
    return out;
  }

  /**
   * {@code ctrl-c-during-encode} and {@code killed-run-temp-files}: SIGINT to a QDM process in the
   * middle of the encode stage prints one line naming the step, exits with 130, leaves no stack
   * trace and removes the process's temporary directory; the folder a killed process left is
   * removed by the next process; the same command then resumes the run to completion.
   */
  @Test
  void ctrlCStopsWithOneLineAndTheRunResumes() throws Exception {
    Path conf = tmp.resolve("sigint.conf");
    Files.writeString(
        conf, audit.config("sigint", 512).replace("max-tokens = 512", "max-tokens = 1024"));
    Path scratchRoot = Files.createDirectories(tmp.resolve("scratch/qdm-test"));
    Path stale = Files.createDirectories(scratchRoot.resolve("999999999"));
    Files.writeString(stale.resolve("blockmgr-leftover"), "from a killed run");
    Path err = tmp.resolve("sigint.err");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "bash",
                "-c",
                // a suite started in the background inherits SIGINT ignored, and a JVM started
                // so keeps ignoring it (as a background job should): give this one the default
                "mkdir -p \"$QDM_SCRATCH/$$\" && exec env --default-signal=INT \"$JAVA\" $OPENS"
                    + " -Xmx1g -Dai.djl.offline=true"
                    + " -Djava.io.tmpdir=\"$QDM_SCRATCH/$$\" -Dlog4j2.configurationFile=conf/log4j2.properties"
                    + " -cp \"$CP\" qdm.cli.Main run \"$CONF\""));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(false)
            .redirectOutput(tmp.resolve("sigint.out").toFile())
            .redirectError(err.toFile());
    pb.environment().put("QDM_SCRATCH", scratchRoot.toString());
    pb.environment()
        .put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    pb.environment()
        .put(
            "OPENS",
            String.join(
                " ",
                java.lang.management.ManagementFactory.getRuntimeMXBean()
                    .getInputArguments()
                    .stream()
                    .filter(
                        a ->
                            a.startsWith("--add-opens")
                                || a.startsWith("-Djdk.reflect")
                                || a.startsWith("-Dio.netty"))
                    .toList()));
    pb.environment()
        .put(
            "CP",
            System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
    pb.environment().put("CONF", conf.toString());
    pb.environment().put("DJL_OFFLINE", "true");
    pb.environment().put("OPT_OUT_TRACKING", "true");
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!Files.readString(err).contains("Progress: encode") && p.isAlive()) {
      assertTrue(System.nanoTime() < deadline, "no encode progress in 3 minutes");
      Thread.sleep(100);
    }
    assertTrue(
        p.isAlive(), "the run ended before it could be interrupted:\n" + Files.readString(err));
    new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the process did not stop on SIGINT");
    String stderr = Files.readString(err);
    assertEquals(130, p.exitValue(), stderr);
    List<String> interrupted = stderr.lines().filter(l -> l.contains("interrupted")).toList();
    assertEquals(1, interrupted.size(), stderr);
    assertTrue(
        interrupted.get(0).startsWith("qdm run: interrupted during encode")
            && interrupted
                .get(0)
                .endsWith("re-run the same command to resume (complete stages " + "are kept)"),
        interrupted.get(0));
    assertFalse(stderr.contains("\tat ") || stderr.contains("Caused by"), stderr);
    assertFalse(Files.exists(stale), "the killed process's temporary folder is removed");
    try (Stream<Path> left = Files.list(scratchRoot)) {
      assertEquals(List.of(), left.toList(), "the interrupted process's folder is removed");
    }

    RunLayout layout =
        new RunLayout(
            audit.output().toString(), "sigint", spark.sparkContext().hadoopConfiguration());
    assertFalse(RunState.of(layout).complete());
    Cli.Result resumed = Cli.run("run", conf.toString());
    assertEquals(0, resumed.exit(), resumed.all());
    assertTrue(RunState.of(layout).complete());
    assertEquals(0, Cli.run("verify", conf.toString()).exit());
  }
}
