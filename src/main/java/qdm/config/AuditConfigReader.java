package qdm.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import java.util.List;
import qdm.compress.Convention;
import qdm.condition.Condition;
import qdm.condition.ConditionSyntax;

/**
 * Builds an {@link AuditConfig} from a resolved, key-checked configuration, one section at a time
 * ({@link LocationSections}, {@link CorpusSections}, {@link ConditionSections}, {@link
 * ExecutionSections}); every problem is recorded, and nothing is returned when there was one.
 */
final class AuditConfigReader {
  private AuditConfigReader() {}

  static AuditConfig read(Config c, Problems problems, String source) {
    ConfigReads r = new ConfigReads(c, problems);
    String runName = r.requiredString("qdm.run-name");
    if (runName != null && !ConditionSyntax.NAME.matcher(runName).matches()) {
      r.bad(
          "qdm.run-name",
          "must be letters, digits, '.', '_' or '-' (it names a directory), got '" + runName + "'");
    }
    String output = r.requiredString("qdm.output");
    var model = LocationSections.model(r);
    Convention convention = LocationSections.convention(r);
    var saes = LocationSections.saes(r);
    var corpus = CorpusSections.corpus(r);
    var windows = CorpusSections.windows(r, corpus.maxTokens());
    var sources = LocationSections.sources(r, corpus.paths(), windows.slideSources());
    var hub = LocationSections.hub(r, corpus.paths(), windows.settings().sliding().corpus());
    List<Condition> conditions = ConditionSections.conditions(r, convention);
    var analysis = ConditionSections.analysis(r, conditions);
    var execution = ExecutionSections.execution(r);
    var spark = ExecutionSections.spark(r);
    String text =
        c.getConfig("qdm")
            .atKey("qdm")
            .root()
            .render(ConfigRenderOptions.defaults().setOriginComments(false).setJson(false));
    if (!problems.isEmpty()) {
      return null;
    }
    return new AuditConfig(
        runName,
        output,
        model,
        saes,
        corpus,
        windows.settings(),
        conditions,
        analysis,
        execution,
        spark,
        sources,
        hub,
        source,
        text);
  }
}
