package qdm.config;

import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import qdm.spark.PlacementPolicy;

/** How the audit runs: the {@code execution} and {@code spark} sections. */
final class ExecutionSections {
  /** Master URLs Spark accepts (SparkContext's own forms). */
  private static final Pattern MASTER =
      Pattern.compile(
          "local|local\\[([1-9][0-9]*|\\*)"
              + "(,\\s*[0-9]+)?]|local-cluster\\[\\s*[0-9]+\\s*,\\s*[0-9]+\\s*,\\s*[0-9]+\\s*]"
              + "|spark://\\S+|yarn|k8s://\\S+|mesos://\\S+");

  private ExecutionSections() {}

  static AuditConfig.ExecutionSettings execution(ConfigReads r) {
    return new AuditConfig.ExecutionSettings(
        r.intAtLeast("qdm.execution.batch-size", 1),
        r.oneOf("qdm.execution.device", PlacementPolicy.DEVICES),
        r.autoBytes("qdm.execution.weight-cache-bytes"),
        r.autoInt("qdm.execution.windows-per-task"),
        r.autoInt("qdm.execution.threads-per-task"));
  }

  static AuditConfig.SparkSettings spark(ConfigReads r) {
    Map<String, String> sparkConf = new LinkedHashMap<>();
    if (r.c.hasPath("qdm.spark.conf")) {
      for (Map.Entry<String, ConfigValue> e : r.c.getConfig("qdm.spark.conf").entrySet()) {
        sparkConf.put(
            String.join(".", ConfigUtil.splitPath(e.getKey())),
            String.valueOf(e.getValue().unwrapped()));
      }
    }
    String master = r.requiredString("qdm.spark.master");
    if (master != null && !MASTER.matcher(master).matches()) {
      r.bad(
          "qdm.spark.master",
          "must be a Spark master URL: local, local[N], local[*], "
              + "local[N,F], spark://HOST:PORT, yarn or k8s://URL; got '"
              + master
              + "'");
    }
    return new AuditConfig.SparkSettings(master, sparkConf);
  }
}
