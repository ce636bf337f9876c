package qdm.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import qdm.QdmException;
import qdm.condition.Condition;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.hub.Hub;
import qdm.hub.HubPaths;
import qdm.hub.HubSettings;
import qdm.spark.AuditJob;
import qdm.spark.ConditionTable;
import qdm.spark.CurrentStep;
import qdm.spark.Preflight;
import qdm.spark.Sessions;

/**
 * {@code qdm run CONF}: the audit. Validates the whole configuration first (and with {@code
 * --dry-run} stops there), then runs the stages in order.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run the audit of a config: tokenize, encode, analyze, report.",
      "Outputs go to <output>/<run-name>/. Complete stages whose inputs did not change are",
      "skipped, so a failed run resumes where it stopped."
    })
final class RunCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "CONF", description = "HOCON config file (see conf/).")
  Path config;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description =
          "Override a config value (HOCON syntax; the 'qdm.' prefix is optional). " + "Repeatable.")
  List<String> overrides = new ArrayList<>();

  @Option(
      names = "--stage",
      paramLabel = "STAGE",
      description =
          "Run only these stages (tokenize, encode, analyze, report); repeatable. "
              + "Earlier stages must be complete.")
  List<String> stages = new ArrayList<>();

  @Option(names = "--force", description = "Re-run stages even if complete with the same inputs.")
  boolean force;

  @Option(
      names = "--dry-run",
      description = "Validate the config, the model, the SAE and the corpus paths; run nothing.")
  boolean dryRun;

  @Override
  public Integer call() {
    for (String s : stages) {
      if (!AuditJob.STAGES.contains(s)) {
        throw new QdmException(
            "--stage " + s + ": expected one of " + String.join(", ", AuditJob.STAGES));
      }
    }
    CurrentStep.at("preflight");
    AuditConfig c = localCopies(AuditConfigs.load(config, overrides), !dryRun);
    Preflight preflight = Preflight.check(c);
    System.err.println(plan(c, preflight));
    if (dryRun) {
      preflight.notes().forEach(n -> System.err.println("  note: " + n));
      System.err.println("qdm run: dry run: the configuration is valid; nothing was run.");
      return 0;
    }
    CurrentStep.at("Spark start-up");
    SparkSession spark = Sessions.forAudit(c);
    AuditJob job = new AuditJob(spark, c, preflight, force);
    long start = System.nanoTime();
    job.run(stages);
    if (stages.isEmpty() || stages.contains("analyze") || stages.contains("report")) {
      System.out.println(ConditionTable.render(spark, job.layout()));
      System.out.println();
    }
    System.out.printf(
        Locale.ROOT,
        "qdm run: done in %.1f s (%s); outputs in %s%n",
        (System.nanoTime() - start) / 1e9,
        stages.isEmpty() ? "all stages" : "stages " + String.join(", ", stages),
        job.layout().root());
    if (job.layout().exists(job.layout().table("report/index.html"))) {
      System.out.println("report: " + job.layout().table("report/index.html"));
    }
    return 0;
  }

  /**
   * The config with local copies in place of its hf:// locations (downloaded now if {@code
   * download}, else only those already cached), resolved here on the driver so the preflight checks
   * and the executors open the same local files.
   */
  static AuditConfig localCopies(AuditConfig c, boolean download) {
    var h = c.hub();
    Hub hub =
        new Hub(
            HubSettings.of(h.cache(), h.endpoint(), h.offline(), System.getenv()),
            System.err::println);
    return c.mapPaths(new HubPaths(hub, download)::map);
  }

  /** "SAE path (arch, d features at hook)", or each SAE by name when there are several. */
  private static String saes(AuditConfig c, Preflight p) {
    if (p.saes().isEmpty()) {
      return "SAE " + c.sae().path() + " (not downloaded yet)";
    }
    List<String> parts = new java.util.ArrayList<>();
    for (Preflight.NamedSae n : p.saes()) {
      String what =
          String.format(
              Locale.ROOT,
              "%s, %d features at %s",
              n.config().architecture(),
              n.config().dSae(),
              n.config().hook());
      parts.add(
          p.saes().size() == 1
              ? "SAE " + n.settings().path() + " (" + what + ")"
              : n.name() + " " + n.settings().path() + " (" + what + ")");
    }
    return p.saes().size() == 1
        ? parts.get(0)
        : p.saes().size() + " SAEs: " + String.join("; ", parts);
  }

  static String plan(AuditConfig c, Preflight p) {
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            Locale.ROOT,
            "qdm run %s: model %s (%s), %s%n",
            c.runName(),
            c.model().path(),
            (p.model() == null
                    ? "not downloaded yet"
                    : String.format(
                        Locale.ROOT,
                        "%s, %d layers, d %d",
                        p.model().modelType(),
                        p.model().numLayers(),
                        p.model().hiddenSize()))
                + (c.model().processing().equals("none")
                    ? ""
                    : ", processing " + c.model().processing()),
            saes(c, p)));
    s.append(
        String.format(
            Locale.ROOT,
            "  corpus %s, up to %,d tokens in windows of %d%s%n",
            String.join(", ", c.corpus().paths()),
            c.corpus().maxTokens(),
            c.windows().chunkLength(),
            c.windows().sliding().enabled()
                ? String.format(
                        Locale.ROOT,
                        "; sliding %d/%d",
                        c.windows().sliding().length(),
                        c.windows().sliding().stride())
                    + c.windows()
                        .sliding()
                        .corpus()
                        .map(sc -> " over " + String.join(", ", sc.paths()))
                        .orElse("")
                : ""));
    s.append("  conditions:");
    for (Condition cond : AuditJob.encodeOrder(c)) {
      s.append(' ').append(cond.name());
      if (cond.convention() == qdm.compress.Convention.TL) {
        s.append("(tl)");
      }
    }
    s.append(String.format(Locale.ROOT, "%n  output %s/%s", c.output(), c.runName()));
    return s.toString();
  }
}
