package qdm.cli;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import qdm.QdmException;
import qdm.analysis.NullRun;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.spark.AuditJob;
import qdm.spark.RunLayout;
import qdm.spark.RunState;
import qdm.tables.ParquetTable;

/**
 * {@code qdm verify CONF}: checks a finished run's FP-vs-FP null run from its published {@code
 * feature_survival} table: the analysis completed, the null condition is there, and every active
 * feature has r = 1 (within {@link NullRun#TOLERANCE}). The analyze stage already fails when the
 * null run does; this is the independent last step a scheduler runs (the Airflow DAG's final task),
 * and it also fails when the null run was switched off. Reads the Parquet output without Spark.
 */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Check a finished run's FP null run (r = 1 for every active feature).",
      "Reads <output>/<run-name>/feature_survival without Spark; exit 0 when every active",
      "feature of <reference>-null has r = 1, 2 when not, or when the run is incomplete."
    })
final class VerifyCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "CONF", description = "The run's HOCON config file.")
  java.nio.file.Path config;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Override a config value, as for 'qdm run'. Repeatable.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--dry-run", description = "Check the config only.")
  boolean dryRun;

  @Override
  public Integer call() {
    AuditConfig c = AuditConfigs.load(config, overrides);
    if (!c.analysis().nullRun()) {
      throw new QdmException(
          config
              + ": qdm.analysis.null-run = false: this run has no FP null "
              + "run to verify (set it to true and re-run the analyze stage)");
    }
    String nullCondition = AuditJob.nullRun(c).name();
    if (dryRun) {
      System.err.println(
          "qdm verify: dry run: would check condition '"
              + nullCondition
              + "' in "
              + c.output()
              + "/"
              + c.runName()
              + "/feature_survival");
      return 0;
    }
    RunLayout layout = new RunLayout(c.output(), c.runName(), new Configuration());
    RunState state = RunState.of(layout);
    if (!state.complete()) {
      throw new QdmException(state.describe());
    }
    List<String> differ =
        AuditConfigs.outputDifferences(
            layout.readText(layout.table("config.conf")).orElse(""), c.text());
    if (!differ.isEmpty()) {
      throw new QdmException(
          layout.root()
              + " was computed with another configuration than "
              + config
              + " (config.conf there vs here: "
              + String.join("; ", differ.subList(0, Math.min(5, differ.size())))
              + (differ.size() > 5 ? "; and " + (differ.size() - 5) + " more" : "")
              + "); re-run 'jobs/qdm run "
              + config
              + "' first");
    }
    ParquetTable t =
        ParquetTable.open(layout.table("feature_survival").toString(), new Configuration());
    long active = 0;
    double worst = 0;
    List<String> offenders = new ArrayList<>();
    long bad = 0;
    for (Iterator<GenericRecord> it = t.rows(); it.hasNext(); ) {
      GenericRecord r = it.next();
      if (!nullCondition.equals(r.get("condition")) || !(Boolean) r.get("active")) {
        continue;
      }
      active++;
      double diff = Math.abs((Double) r.get("pearson") - 1.0);
      worst = Math.max(worst, diff);
      if (!(diff <= NullRun.TOLERANCE)) {
        bad++;
        if (offenders.size() < 10) {
          offenders.add("feature " + r.get("feature") + " r=" + r.get("pearson"));
        }
      }
    }
    if (active == 0) {
      throw new QdmException(
          t.root()
              + ": no active feature of condition '"
              + nullCondition
              + "' (the null run is missing from this run's outputs)");
    }
    if (bad > 0) {
      throw new QdmException(
          String.format(
              Locale.ROOT,
              "%s: null run failed: %d of %d active " + "features of '%s' have |r - 1| > %g: %s",
              t.root(),
              bad,
              active,
              nullCondition,
              NullRun.TOLERANCE,
              String.join(", ", offenders)));
    }
    System.out.printf(
        Locale.ROOT,
        "qdm verify: null run '%s' holds: r = 1 for all %d active "
            + "features (max |r - 1| = %.3g)%n",
        nullCondition,
        active,
        worst);
    return 0;
  }
}
