package qdm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.testing.Cli;
import qdm.testing.LocalSpark;
import qdm.testing.TinyRun;

/**
 * jobs/airflow/qdm_audit_dag.py without Airflow (not installable here): python3 compiles it,
 * src/test/python/dag_args.py reads each SparkSubmitOperator's arguments from its syntax tree with
 * the DAG params substituted, and QDM's own command line must accept every one ({@code --dry-run},
 * in-process). The final task's {@code qdm verify} runs for real on a run's outputs: it passes on
 * the real null run and fails on a copy where one active feature of the null run has r != 1.
 * Skipped (with that reason) only when python3 is missing.
 */
class AirflowDagTest {
  static final Path DAG = Path.of("jobs/airflow/qdm_audit_dag.py");
  @TempDir Path tmp;

  static String python(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("python3"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), String.join(" ", cmd) + "\n" + out);
    return out;
  }

  static boolean hasPython() {
    try {
      return new ProcessBuilder("python3", "--version").start().waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  JsonObject dag(String config, String runName) throws IOException, InterruptedException {
    Assumptions.assumeTrue(hasPython(), "python3 not found: the DAG cannot be parsed here");
    String params = "{\"config\": \"" + config + "\", \"run_name\": \"" + runName + "\"}";
    return JsonParser.parseString(python("src/test/python/dag_args.py", DAG.toString(), params))
        .getAsJsonObject();
  }

  static List<String> strings(JsonArray a) {
    List<String> out = new ArrayList<>();
    for (JsonElement e : a) {
      out.add(e.getAsString());
    }
    return out;
  }

  @Test
  void theDagCompilesAndQdmAcceptsEveryTasksArguments_needsPython3()
      throws IOException, InterruptedException {
    Assumptions.assumeTrue(hasPython(), "python3 not found: the DAG cannot be compiled here");
    python(
        "-c",
        "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], "
            + "doraise=True)",
        DAG.toString(),
        tmp.resolve("dag.pyc").toString());

    TinyRun run = TinyRun.get();
    JsonObject dag = dag(run.config().toString(), TinyRun.RUN_NAME);
    JsonArray tasks = dag.getAsJsonArray("tasks");
    List<String> ids = new ArrayList<>();
    tasks.forEach(t -> ids.add(t.getAsJsonObject().get("task_id").getAsString()));
    assertEquals(
        List.of("tokenize", "encode", "analyze", "report", "verify_null_run"),
        ids,
        "one task per stage in order, then the null-run check");
    assertEquals(List.of(), strings(dag.getAsJsonArray("unchained")));
    assertTrue(dag.get("default_retries").getAsInt() > 0, "stage tasks are retried");

    for (JsonElement e : tasks) {
      JsonObject t = e.getAsJsonObject();
      String id = t.get("task_id").getAsString();
      List<String> args = strings(t.getAsJsonArray("application_args"));
      assertEquals(List.of("--set", "run-name=" + TinyRun.RUN_NAME), args.subList(2, 4), id);
      assertEquals(run.config().toString(), args.get(1), id);
      if (!id.equals("verify_null_run")) {
        assertEquals(
            List.of("run", "--stage", id), List.of(args.get(0), args.get(4), args.get(5)), id);
        assertTrue(t.get("retries").isJsonNull(), id + " uses the DAG's retries");
      } else {
        assertEquals("verify", args.get(0));
        assertEquals(0, t.get("retries").getAsInt(), "a failed null run is not retried");
      }
      List<String> dry = new ArrayList<>(args);
      dry.add("--dry-run");
      Cli.Result r = Cli.run(dry.toArray(String[]::new));
      assertEquals(0, r.exit(), id + ": qdm " + dry + "\n" + r.all());
    }
  }

  @Test
  void theFinalTaskPassesOnTheNullRunAndFailsWhenItBreaks_needsPython3()
      throws IOException, InterruptedException {
    TinyRun run = TinyRun.get();
    JsonObject dag = dag(run.config().toString(), TinyRun.RUN_NAME);
    JsonArray tasks = dag.getAsJsonArray("tasks");
    List<String> verify =
        strings(tasks.get(tasks.size() - 1).getAsJsonObject().getAsJsonArray("application_args"));

    Cli.Result ok = Cli.run(verify.toArray(String[]::new));
    assertEquals(0, ok.exit(), ok.all());
    assertTrue(ok.out().contains("null run 'fp-null' holds"), ok.all());

    // a copy of the run whose null run has one active feature at r = 0.5
    Path out = tmp.resolve("out");
    Path copy = out.resolve(TinyRun.RUN_NAME);
    Files.createDirectories(copy.resolve("_stages"));
    // a complete run as verify sees one: the report's record and the run's config.conf too
    for (String f : List.of("_stages/analyze.json", "_stages/report.json", "config.conf")) {
      Files.copy(run.table(f), copy.resolve(f));
    }
    var fs = LocalSpark.get().read().parquet(run.table("feature_survival").toString());
    int victim =
        fs.where("condition = 'fp-null' and active")
            .agg(functions.min("feature"))
            .first()
            .getInt(0);
    fs.withColumn(
            "pearson",
            functions
                .when(
                    functions
                        .col("condition")
                        .equalTo("fp-null")
                        .and(functions.col("feature").equalTo(victim)),
                    0.5)
                .otherwise(functions.col("pearson")))
        .write()
        .parquet(copy.resolve("feature_survival").toString());
    List<String> broken = new ArrayList<>(verify);
    broken.addAll(List.of("--set", "output=\"" + out + "\""));
    Cli.Result bad = Cli.run(broken.toArray(String[]::new));
    assertEquals(2, bad.exit(), bad.all());
    assertTrue(
        bad.err().contains("null run failed: 1 of ")
            && bad.err().contains("feature " + victim + " r=0.5"),
        bad.all());

    List<String> off = new ArrayList<>(verify);
    off.addAll(List.of("--set", "analysis.null-run=false"));
    Cli.Result none = Cli.run(off.toArray(String[]::new));
    assertEquals(2, none.exit(), none.all());
    assertTrue(none.err().contains("no FP null run to verify"), none.all());
  }
}
