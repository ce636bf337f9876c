package qdm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import qdm.QdmException;
import qdm.condition.Condition;

class AuditConfigsTest {
  static final String MINIMAL =
      """
      qdm {
        run-name = t
        model.path = m
        sae.path = s
        corpus.paths = [c.txt]
      }
      """;

  static AuditConfig parse(String hocon, String... overrides) {
    return AuditConfigs.parse(hocon, List.of(overrides), "test.conf");
  }

  static String error(String hocon, String... overrides) {
    return assertThrows(QdmException.class, () -> parse(hocon, overrides)).getMessage();
  }

  @Test
  void defaultsGiveThePapersSweep() {
    AuditConfig c = parse(MINIMAL);
    assertEquals(
        List.of("fp", "rtn8", "rtn7", "rtn6", "rtn5", "rtn4", "prune-matched"),
        c.conditions().stream().map(Condition::name).toList());
    assertEquals("fp", c.reference().name());
    assertEquals("rtn:6", c.condition("rtn6").orElseThrow().spec());
    var matched =
        assertInstanceOf(
            Condition.MatchedPruning.class, c.condition("prune-matched").orElseThrow());
    assertEquals(new Condition.Search(0.0, 0.8, 6, 100_000), matched.search());
    assertEquals(List.of(List.of("rtn6", "prune-matched")), c.analysis().overlap());
    assertEquals("rtn6", c.analysis().predictorCondition());
    assertEquals(512, c.windows().chunkLength());
    assertEquals(200_000, c.corpus().maxTokens());
    assertTrue(c.execution().weightCacheBytes().isEmpty());
  }

  @Test
  void severalSaesAreReadAndTheirProblemsNameTheirKeys() {
    String two =
        MINIMAL.replace(
            "sae.path = s",
            "saes = [ { name = a, path = p }, { path = q, hook = \"blocks.2.hook_resid_post\" } ]");
    AuditConfig c = parse(two);
    assertEquals(2, c.saes().size());
    assertEquals("a", c.saes().get(0).name().orElseThrow());
    assertTrue(c.saes().get(1).name().isEmpty(), "named by its hook in the preflight");
    assertEquals("qdm.saes[1]", c.saes().get(1).key());
    assertEquals("blocks.2.hook_resid_post", c.saes().get(1).hook().orElseThrow());
    assertEquals(
        "q", c.mapPaths((k, p) -> k.equals("qdm.saes[0].path") ? "P" : p).saes().get(1).path());
    assertEquals(
        "P", c.mapPaths((k, p) -> k.equals("qdm.saes[0].path") ? "P" : p).saes().get(0).path());
    assertTrue(
        error(
                MINIMAL.replace(
                    "sae.path = s", "saes = [ { name = a, path = p }, { name = a, path = q } ]"))
            .contains("qdm.saes[1].name: duplicate SAE name 'a'"));
    assertTrue(
        error(MINIMAL.replace("sae.path = s", "saes = [ { name = \"a/b\", path = p } ]"))
            .contains("qdm.saes[0].name: must be letters, digits"));
    assertTrue(error(MINIMAL.replace("sae.path = s", "saes = []")).contains("qdm.saes: is empty"));
    assertTrue(
        error(MINIMAL.replace("sae.path = s", "sae.path = s, saes = [ { path = q } ]"))
            .contains("qdm.saes: and qdm.sae.path are both set"));
    assertTrue(
        error(MINIMAL.replace("sae.path = s", "saes = [ { path = q, width = 3 } ]"))
            .contains("qdm.saes[0].width: unknown key"));
    assertTrue(error(MINIMAL.replace("sae.path = s", "")).contains("qdm.sae.path: is required"));
  }

  @Test
  void stabilitySettingsAreReadAndCheckedByKey() {
    var st = parse(MINIMAL).analysis().stability();
    assertEquals(List.of(0.25, 0.5, 1.0), st.budgets());
    assertEquals(3, st.subsets().orElseThrow().count());
    assertEquals(20, st.thresholds().size(), "4 x 5 pairs, damaged < survived in each");
    assertEquals(200, st.bootstrap().orElseThrow().samples());
    assertTrue(
        parse(MINIMAL, "analysis.stability.thresholds.damaged=[0.9, 0.3]")
                .analysis()
                .stability()
                .thresholds()
                .size()
            == 4 + 1,
        "damaged 0.9 pairs only with survived 0.95");
    org.junit.jupiter.api.Assertions.assertFalse(
        parse(MINIMAL, "analysis.stability.enabled=false").analysis().stability().any());
    assertTrue(
        error(MINIMAL, "analysis.stability.budgets=[0, 0.5]")
            .contains("qdm.analysis.stability.budgets: fractions must be in (0, 1], got 0.0"));
    assertTrue(
        error(MINIMAL, "analysis.stability.budgets=[1.5]")
            .contains("qdm.analysis.stability.budgets"));
    assertTrue(
        error(MINIMAL, "analysis.stability.bootstrap.samples=0")
            .contains("qdm.analysis.stability.bootstrap.samples"));
    assertTrue(
        error(MINIMAL, "analysis.stability.subsets.fraction=0")
            .contains("qdm.analysis.stability.subsets.fraction"));
    QdmException tooFew =
        assertThrows(
            QdmException.class,
            () ->
                qdm.analysis.Stability.checkWindows(
                    64,
                    parse(MINIMAL, "analysis.stability.subsets.fraction=0.01")
                        .analysis()
                        .stability()));
    assertTrue(
        tooFew
            .getMessage()
            .contains(
                "qdm.analysis.stability.subsets.fraction: 0.01 of 64 chunk windows leaves no window"),
        tooFew.getMessage());
  }

  @Test
  void overridesWinAndAcceptKeysWithOrWithoutPrefix() {
    AuditConfig c =
        parse(
            MINIMAL,
            "windows.chunk-length=128",
            "qdm.execution.batch-size=2",
            "execution.weight-cache-bytes=2g",
            "sae.hook=blocks.1.hook_resid_post");
    assertEquals(128, c.windows().chunkLength());
    assertEquals(2, c.execution().batchSize());
    assertEquals(2L << 30, c.execution().weightCacheBytes().getAsLong());
    assertEquals("blocks.1.hook_resid_post", c.sae().hook().orElseThrow());
  }

  @Test
  void conditionsTranslateToCompressionSpecs() {
    AuditConfig c =
        parse(
            MINIMAL
                + """
        qdm.conditions = [
          { name = base, method = none }
          { name = q4g, method = rtn, bits = 4, group-size = 32, asymmetric = true }
          { name = q8e, method = rtn, bits = 8, targets = [embeddings, lm-head] }
          { name = p, method = prune, sparsity = 0.25, global = true }
        ]
        qdm.analysis { overlap = [[q4g, p]], predictor.condition = q4g }
        """);
    assertEquals("none", c.condition("base").orElseThrow().spec());
    assertEquals("rtn:4:g32:asym", c.condition("q4g").orElseThrow().spec());
    assertEquals("rtn:8:targets=decoder+embed+head", c.condition("q8e").orElseThrow().spec());
    assertEquals("prune:0.25:global", c.condition("p").orElseThrow().spec());
  }

  @Test
  void unknownKeysAreRejectedWithAHint() {
    String m = error(MINIMAL + "qdm.windows.chunk-lenght = 3\n");
    assertTrue(m.contains("qdm.windows.chunk-lenght"), m);
    assertTrue(m.contains("did you mean qdm.windows.chunk-length"), m);
    assertTrue(m.contains("test.conf"), m);
  }

  @Test
  void everyProblemIsReportedWithItsKey() {
    String m =
        error(
            """
        qdm {
          model.path = m
          sae.path = s
          corpus.paths = []
          windows.sliding { length = 100, stride = 100 }
          execution.batch-size = 0
          conditions = [
            { name = fp, method = none }
            { name = fp, method = rtn, bits = 9 }
            { name = m, method = prune, match-perplexity-of = nope }
          ]
        }
        """);
    for (String key :
        List.of(
            "qdm.run-name",
            "qdm.corpus.paths",
            "qdm.windows.sliding.stride",
            "qdm.execution.batch-size",
            "duplicate condition name 'fp'",
            "must be between 2 and 8, got 9",
            "'nope' is not a defined condition")) {
      assertTrue(m.contains(key), "missing '" + key + "' in:\n" + m);
    }
  }

  @Test
  void predictorAutoFallsBackToFirstCompressedCondition() {
    AuditConfig c =
        parse(
            MINIMAL
                + """
        qdm.conditions = [{ name = fp, method = none }, { name = q, method = rtn, bits = 4 }]
        """);
    assertEquals("q", c.analysis().predictorCondition());
    assertEquals(List.of(), c.analysis().overlap());
  }

  @Test
  void referenceIsRequiredAndMethodSpecificKeysAreChecked() {
    assertTrue(
        error(MINIMAL + "qdm.conditions = [{ name = q, method = rtn, bits = 4 }]\n")
            .contains("needs a reference condition"));
    assertTrue(
        error(
                MINIMAL
                    + "qdm.conditions = [{ name = fp, method = none }, "
                    + "{ name = p, method = prune, sparsity = 1.0 }]\n")
            .contains("must be in [0, 1)"));
    assertTrue(
        error(MINIMAL + "qdm.conditions = [{ name = fp, method = none, bits = 4 }]\n")
            .contains("does not apply to method = none"));
    assertTrue(
        error(
                MINIMAL
                    + "qdm.conditions = [{ name = fp, method = none }, "
                    + "{ name = p, method = prune, sparsity = 0.1, match-perplexity-of = fp }]\n")
            .contains("exactly one of sparsity or match-perplexity-of"));
  }

  @Test
  void badOverrideSyntaxIsNamed() {
    assertTrue(error(MINIMAL, "windows.chunk-length").contains("expected key=value"));
    assertTrue(error(MINIMAL, "windows.chunk-length=abc").contains("qdm.windows.chunk-length"));
  }

  @Test
  void aSlidingCorpusOfItsOwnIsReadAndChecked() {
    AuditConfig none = parse(MINIMAL);
    assertTrue(none.windows().sliding().corpus().isEmpty());
    AuditConfig c =
        parse(
            MINIMAL
                + """
        qdm.windows.sliding.corpus {
          paths = [test.parquet], format = parquet, text-column = line
          source = "hf://datasets/Salesforce/wikitext@main/wikitext-2-raw-v1/test.parquet"
        }
        """);
    var sc = c.windows().sliding().corpus().orElseThrow();
    assertEquals(List.of("test.parquet"), sc.paths());
    assertEquals("parquet", sc.format());
    assertEquals("line", sc.textColumn());
    assertEquals(1, c.sources().slidingCorpus().size());
    String m =
        error(
            MINIMAL
                + """
        qdm.windows.sliding.corpus { paths = [], format = csv, source = ["a", "b"] }
        """);
    for (String key :
        List.of(
            "qdm.windows.sliding.corpus.paths: must list at least one",
            "qdm.windows.sliding.corpus.format: must be one of",
            "qdm.windows.sliding.corpus.source")) {
      assertTrue(m.contains(key), "missing '" + key + "' in:\n" + m);
    }
    assertTrue(
        error(MINIMAL, "windows.sliding.corpus.source=x")
            .contains("applies only with qdm.windows.sliding.corpus.paths"));
  }

  @Test
  void sourceHintsAndHubLocationsAreValidated() {
    AuditConfig c =
        parse(
            MINIMAL
                + """
        qdm.model.source = "hf://EleutherAI/pythia-70m-deduped@main"
        qdm.sae.source = "hf://org/saes@main/4-res-sm (SAELens release r, id blocks.4)"
        qdm.corpus { paths = [a, b], source = "hf://datasets/org/text@main/x.parquet" }
        qdm.hub { cache = /tmp/c, endpoint = "http://127.0.0.1:9", offline = true }
        """);
    assertEquals("hf://EleutherAI/pythia-70m-deduped@main", c.sources().model().orElseThrow());
    assertEquals(2, c.sources().corpus().size(), "one source for all paths is repeated");
    assertEquals(
        new AuditConfig.HubConfig(
            java.util.Optional.of("/tmp/c"), java.util.Optional.of("http://127.0.0.1:9"), true),
        c.hub());
    String m =
        error(
            MINIMAL
                + """
        qdm.model.path = "hf://nameonly"
        qdm.sae.source = "hf://a/b@main//x"
        qdm.corpus { paths = [a, b, c], source = [s1, s2] }
        qdm.hub.endpoint = "ftp://x"
        """);
    for (String key :
        List.of(
            "qdm.model.path: hf://nameonly",
            "qdm.sae.source: hf://a/b",
            "qdm.corpus.source: must give one source for all paths or one per path (3), got 2",
            "qdm.hub.endpoint: must be an http:// or https:// URL")) {
      assertTrue(m.contains(key), "missing '" + key + "' in:\n" + m);
    }
  }

  @Test
  void mapPathsRewritesEveryFileLocationAndKeepsTheText() {
    AuditConfig c =
        parse(
            MINIMAL
                + """
        qdm.model.weights = w.safetensors
        qdm.windows.sliding.corpus.paths = [t.parquet]
        """);
    List<String> keys = new java.util.ArrayList<>();
    AuditConfig m =
        c.mapPaths(
            (key, p) -> {
              keys.add(key);
              return "/local/" + p;
            });
    assertEquals("/local/m", m.model().path());
    assertEquals("/local/w.safetensors", m.model().weights().orElseThrow());
    assertEquals("/local/s", m.sae().path());
    assertEquals(List.of("/local/c.txt"), m.corpus().paths());
    assertEquals(List.of("/local/t.parquet"), m.windows().sliding().corpus().orElseThrow().paths());
    assertEquals(
        List.of(
            "qdm.model.path",
            "qdm.model.weights",
            "qdm.sae.path",
            "qdm.corpus.paths",
            "qdm.windows.sliding.corpus.paths"),
        keys);
    assertEquals(c.text(), m.text());
    assertEquals(c.conditions(), m.conditions());
  }

  @Test
  void processingAndConventionsAreReadAndNamedConditionsShowTheConvention() {
    AuditConfig c =
        parse(
            MINIMAL
                + """
        qdm.model.processing = transformerlens
        qdm.compression.convention = tl
        qdm.conditions = [
          { method = none }
          { method = rtn, bits = 6 }
          { method = rtn, bits = 6, convention = hf }
          { name = p, method = prune, sparsity = 0.3 }
          { method = prune, sparsity = 0.125, convention = hf }
          { method = prune, match-perplexity-of = rtn6 }
        ]
        """);
    assertEquals("transformerlens", c.model().processing());
    assertEquals(
        List.of("fp", "rtn6", "rtn6-hf", "p", "prune12.5-hf", "prune-matched-rtn6"),
        c.conditions().stream().map(Condition::name).toList());
    assertEquals("rtn:6:tl", c.condition("rtn6").orElseThrow().spec());
    assertEquals("rtn:6", c.condition("rtn6-hf").orElseThrow().spec());
    assertEquals("prune:0.3:tl", c.condition("p").orElseThrow().spec());
    var matched =
        assertInstanceOf(
            Condition.MatchedPruning.class, c.condition("prune-matched-rtn6").orElseThrow());
    assertEquals("prune:0.2:tl", matched.at(0.2).spec());
    // the default convention is hf, and an hf condition's name then has no suffix
    AuditConfig d =
        parse(
            MINIMAL
                + "qdm.conditions = [{method = none}, "
                + "{method = rtn, bits = 4, convention = tl}, {method = rtn, bits = 4}]");
    assertEquals(
        List.of("fp", "rtn4-tl", "rtn4"), d.conditions().stream().map(Condition::name).toList());
    assertEquals("none", d.model().processing());
  }

  @Test
  void badProcessingAndConventionValuesNameTheKey() {
    assertTrue(error(MINIMAL, "model.processing=tlens").contains("qdm.model.processing"));
    assertTrue(
        error(MINIMAL, "compression.convention=paper").contains("qdm.compression.convention"));
    String m =
        error(
            MINIMAL
                + "qdm.conditions = [{method = none}, "
                + "{method = rtn, bits = 4, convention = gptq}]");
    assertTrue(m.contains("qdm.conditions[1].convention") && m.contains("gptq"), m);
    m =
        error(
            MINIMAL
                + "qdm.conditions = [{method = none}, "
                + "{method = rtn, bits = 4, group-size = 128, convention = tl}]");
    assertTrue(m.contains("qdm.conditions[1].group-size") && m.contains("convention = tl"), m);
  }
}
