package qdm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import qdm.compress.Convention;
import qdm.condition.Condition;
import qdm.spark.Preflight;

/**
 * The configs under {@code conf/} are read the way {@code jobs/qdm run} reads them, and the demo's
 * two pass the preflight against the shipped assets and keep what issue 17 asks of them.
 */
class ShippedConfigsTest {

  @Test
  void everyShippedConfigReads() throws IOException {
    List<Path> confs;
    try (Stream<Path> s = Files.list(Path.of("conf"))) {
      // spark-*.conf are spark-submit properties files, not audit configs
      confs =
          s.filter(p -> p.toString().endsWith(".conf"))
              .filter(p -> !p.getFileName().toString().startsWith("spark-"))
              .sorted()
              .toList();
    }
    assertTrue(confs.size() >= 5, "conf/ holds " + confs);
    for (Path conf : confs) {
      AuditConfig c = AuditConfigs.load(conf, List.of());
      assertTrue(!c.conditions().isEmpty(), conf + " has no conditions");
    }
  }

  @Test
  void theDemoAuditsStories15MWithThePapersSweep() {
    for (String file : List.of("conf/demo.conf", "conf/demo-brown.conf")) {
      AuditConfig c = AuditConfigs.load(Path.of(file), List.of());
      Preflight p = Preflight.check(c);
      assertEquals("llama", p.model().modelType(), file);
      assertEquals("blocks.3.hook_resid_post", p.hook(), file);
      assertEquals(256, c.windows().chunkLength(), file);
      assertTrue(c.corpus().maxTokens() >= 16_384, file);

      Map<String, Condition> byName =
          c.conditions().stream().collect(Collectors.toMap(Condition::name, x -> x));
      for (int bits = 8; bits >= 3; bits--) {
        Condition hf = byName.get("rtn" + bits);
        assertTrue(hf != null && hf.convention() == Convention.HF, file + ": rtn" + bits);
        assertEquals(OptionalInt.of(bits), hf.bits());
      }
      for (int bits = 5; bits >= 4; bits--) {
        Condition tl = byName.get("rtn" + bits + "-tl");
        assertTrue(tl != null && tl.convention() == Convention.TL, file + ": rtn" + bits + "-tl");
      }
      Condition matched = byName.get("prune-matched");
      assertEquals(java.util.Optional.of("rtn6"), matched.dependsOn(), file);
      long pruned = c.conditions().stream().filter(x -> x.method().equals("prune")).count();
      assertTrue(pruned >= 3, file + ": " + pruned + " pruning conditions");
      assertEquals("rtn4", c.analysis().predictorCondition(), file);
    }
  }
}
