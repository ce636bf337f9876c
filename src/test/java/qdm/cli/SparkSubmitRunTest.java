package qdm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import qdm.testing.TinyRun;

/**
 * The audit launched by Spark's own {@code SparkSubmit} with the arguments {@code jobs/qdm-submit}
 * builds (what users and the Airflow DAG run), in a child JVM with QDM in the application jar and
 * the model and SAE as {@code hf://} locations on a local hub ({@link TinyRun}). Oracles: every
 * table is published, the condition table is printed, the hub files were downloaded once on the
 * driver, and the run read the local cache copies (the provenance in summary.json names them).
 */
class SparkSubmitRunTest {
  @Test
  void theJobRunsUnderSparkSubmitAndReadsTheDownloadedCopies() throws IOException {
    TinyRun run = TinyRun.get();
    assertTrue(
        run.submitCommand().contains(" --class qdm.cli.Main ")
            && run.submitCommand().contains(" --master 'local[2]' ")
            && run.submitCommand().endsWith(run.appJar() + " run " + run.config()),
        "SparkSubmit ran the command jobs/qdm-submit built: " + run.submitCommand());
    for (String t :
        List.of(
            "windows",
            "codes",
            "token_nll",
            "matched_search",
            "feature_stats",
            "feature_survival",
            "conditions",
            "quartiles",
            "overlap",
            "predictor",
            "report/summary.json",
            "report/index.html",
            "_stages/analyze.json")) {
      assertTrue(Files.exists(run.table(t)), t + " missing\n" + run.stdout());
    }
    for (String c : TinyRun.CONDITIONS) {
      assertTrue(
          Files.isDirectory(run.table("codes/sae=blocks.1.hook_resid_post/condition=" + c)), c);
      assertTrue(run.stdout().contains(c), "condition table lists " + c + ":\n" + run.stdout());
    }
    assertTrue(run.stdout().contains("qdm run: done in"), run.stdout());

    assertTrue(
        run.stderr()
            .contains("qdm.model.path = hf://qdm-test/tiny-neox@main: " + "downloading 3 file(s)"),
        run.stderr());
    assertTrue(
        run.stderr()
            .contains(
                "qdm.sae.path = hf://qdm-test/tiny-saes@main/blocks.1: " + "downloading 2 file(s)"),
        run.stderr());
    assertEquals(
        2,
        run.hubRequests().stream().filter(r -> r.contains("/revision/")).count(),
        "one listing per repository: " + run.hubRequests());
    assertTrue(
        run.hubRequests().stream().noneMatch(r -> r.contains("README")),
        "files outside the SAE's folder are not fetched");

    JsonObject summary =
        JsonParser.parseString(Files.readString(run.table("report/summary.json")))
            .getAsJsonObject();
    JsonObject provenance = summary.getAsJsonObject("provenance");
    Path model = Path.of(provenance.get("model").getAsString());
    Path sae = Path.of(provenance.get("sae").getAsString());
    assertTrue(
        model.startsWith(run.hubCache()) && Files.isRegularFile(model.resolve("model.safetensors")),
        model.toString());
    assertTrue(sae.startsWith(run.hubCache()) && sae.endsWith("blocks.1"), sae.toString());
    assertTrue(
        Files.readString(run.table("config.conf")).contains("hf://qdm-test/tiny-neox@main"),
        "the run records what the user wrote");
  }
}
