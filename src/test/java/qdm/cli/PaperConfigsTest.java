package qdm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.condition.Condition;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.testing.Cli;
import qdm.testing.FakeHub;
import qdm.testing.TinyAudit;

/**
 * The paper's setups (conf/pythia-70m.conf, conf/gemma-2-2b.conf): their settings are the ones
 * PAPER.md lists, and a dry run on a machine without the files exits 2 naming each missing file
 * with where to get it. Oracle: the numbers and names of PAPER.md's setup table.
 */
class PaperConfigsTest {
  static final Path PYTHIA = Path.of("conf/pythia-70m.conf");
  static final Path GEMMA = Path.of("conf/gemma-2-2b.conf");

  @Test
  void theConfigsHoldThePapersSetups() {
    AuditConfig p = AuditConfigs.load(PYTHIA, List.of());
    assertEquals(512, p.windows().chunkLength());
    assertEquals(390, p.corpus().maxTokens() / p.windows().chunkLength(), "390 x 512 windows");
    assertEquals("float32", p.model().dtype());
    assertEquals("blocks.4.hook_resid_post", p.sae().hook().orElseThrow());
    assertEquals("\n\n", p.corpus().separator());
    assertEquals(false, p.corpus().bos());
    AuditConfig g = AuditConfigs.load(GEMMA, List.of());
    assertEquals(256, g.windows().chunkLength());
    assertEquals(1953, g.corpus().maxTokens() / g.windows().chunkLength(), "1,953 x 256");
    assertEquals("blocks.12.hook_resid_post", g.sae().hook().orElseThrow());
    var s = g.windows().sliding();
    assertTrue(s.enabled() && s.bos());
    assertEquals(2048, s.length());
    assertEquals(512, s.stride());
    assertTrue(s.corpus().orElseThrow().paths().get(0).endsWith("test-00000-of-00001.parquet"));
    for (AuditConfig c : List.of(p, g)) {
      assertEquals(
          List.of("fp", "rtn8", "rtn7", "rtn6", "rtn5", "rtn4", "prune-matched"),
          c.conditions().stream().map(Condition::name).toList());
      assertEquals(
          "rtn6", ((Condition.MatchedPruning) c.condition("prune-matched").orElseThrow()).target());
      assertEquals(List.of(List.of("rtn6", "prune-matched")), c.analysis().overlap());
      assertEquals("rtn6", c.analysis().predictorCondition());
      assertTrue(c.analysis().nullRun());
      assertTrue(c.corpus().paths().get(0).endsWith("train-00000-of-00001.parquet"));
    }
  }

  @Test
  void aDryRunNamesEachMissingFileAndWhereToGetIt() {
    Cli.Result pythia = Cli.run("run", PYTHIA.toString(), "--dry-run");
    assertEquals(2, pythia.exit(), pythia.all());
    for (String s :
        List.of(
            "3 problems",
            Path.of("assets/paper/models/pythia-70m-deduped").toAbsolutePath() + " does not exist",
            "config.json, tokenizer.json and model.safetensors",
            "EleutherAI/pythia-70m-deduped at revision main",
            "huggingface-cli download EleutherAI/pythia-70m-deduped --revision main",
            "qdm.model.path = \"hf://EleutherAI/pythia-70m-deduped@main\"",
            "4-res-sm does not exist",
            "ctigges/pythia-70m-deduped__res-sm_processed",
            "SAELens release pythia-70m-deduped-res-sm, id blocks.4.hook_resid_post",
            "--include '4-res-sm/*' --local-dir "
                + Path.of("assets/paper/saes/pythia-70m-deduped-res-sm").toAbsolutePath(),
            "train-00000-of-00001.parquet does not exist",
            "https://huggingface.co/datasets/Salesforce/wikitext/resolve/main/wikitext-2-raw-v1/"
                + "train-00000-of-00001.parquet")) {
      assertTrue(pythia.err().contains(s), "missing '" + s + "' in\n" + pythia.all());
    }
    Cli.Result gemma = Cli.run("run", GEMMA.toString(), "--dry-run");
    assertEquals(2, gemma.exit(), gemma.all());
    for (String s :
        List.of(
            "4 problems",
            "google/gemma-2-2b at revision main",
            "HF_TOKEN",
            "google/gemma-scope-2b-pt-res at revision main, path layer_12/width_16k/average_l0_82",
            "gemma-scope-2b-pt-res-canonical, id layer_12/width_16k/canonical",
            "qdm.windows.sliding.corpus.paths: ",
            "test-00000-of-00001.parquet does not exist",
            "wikitext-2-raw-v1/test-00000-of-00001.parquet")) {
      assertTrue(gemma.err().contains(s), "missing '" + s + "' in\n" + gemma.all());
    }
  }

  @Test
  void aDryRunWithHubLocationsRequestsNothingAndSaysWhatItCouldNotCheck(@TempDir Path tmp)
      throws IOException {
    TinyAudit tiny = TinyAudit.create(tmp.resolve("tiny"), 200);
    try (FakeHub hub = new FakeHub()) {
      Cli.Result r =
          Cli.run(
              "run",
              PYTHIA.toString(),
              "--dry-run",
              "--set",
              "model.path=\"hf://EleutherAI/pythia-70m-deduped@main\"",
              "--set",
              "sae.path=\"hf://ctigges/pythia-70m-deduped__res-sm_processed@main/4-res-sm\"",
              "--set",
              "corpus.paths=[\"" + tiny.corpus() + "\"]",
              "--set",
              "corpus.format=auto",
              "--set",
              "hub.cache=\"" + tmp.resolve("cache") + "\"",
              "--set",
              "hub.endpoint=\"" + hub.endpoint() + "\"");
      assertEquals(0, r.exit(), r.all());
      assertTrue(
          r.err()
              .contains(
                  "qdm.model.path = hf://EleutherAI/pythia-70m-deduped@main: "
                      + "not downloaded yet"),
          r.all());
      assertTrue(r.err().contains("qdm.sae.path = hf://ctigges/"), r.all());
      assertEquals(List.of(), hub.requests(), "a dry run downloads nothing");
      assertFalse(Files.exists(tmp.resolve("cache")), "nor creates the cache");
    }
  }

  /**
   * The setups for the most used public SAEs on other models (conf/gpt2-small.conf,
   * conf/llama-3.1-8b.conf): the hook, format and processing each SAE was trained with, and a dry
   * run that names every missing file with its hf:// location.
   */
  @Test
  void thePublicSaeSetupsDryRunWithHints() {
    AuditConfig gpt2 = AuditConfigs.load(Path.of("conf/gpt2-small.conf"), List.of());
    assertEquals("transformerlens", gpt2.model().processing());
    assertEquals("blocks.6.hook_resid_pre", gpt2.sae().hook().orElseThrow());
    assertEquals("rtn:6:tl", gpt2.condition("rtn6").orElseThrow().spec());
    AuditConfig llama = AuditConfigs.load(Path.of("conf/llama-3.1-8b.conf"), List.of());
    assertEquals("none", llama.model().processing());
    assertEquals("llamascope", llama.sae().format());
    assertEquals("blocks.15.hook_resid_post", llama.sae().hook().orElseThrow());
    for (String[] c :
        new String[][] {
          {
            "conf/gpt2-small.conf",
            "hf://openai-community/gpt2@main",
            "hf://jbloom/GPT2-Small-SAEs-Reformatted@main/blocks.6.hook_resid_pre"
          },
          {
            "conf/llama-3.1-8b.conf",
            "hf://meta-llama/Llama-3.1-8B@main",
            "hf://fnlp/Llama3_1-8B-Base-LXR-8x@main/Llama3_1-8B-Base-L15R-8x"
          }
        }) {
      Cli.Result r = Cli.run("run", c[0], "--dry-run");
      assertEquals(2, r.exit(), r.all());
      for (String s : List.of("3 problems", c[1], c[2], "wikitext-2-raw-v1/train")) {
        assertTrue(r.err().contains(s), "missing '" + s + "' in\n" + r.all());
      }
    }
  }
}
