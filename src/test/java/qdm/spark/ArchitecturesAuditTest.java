package qdm.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.testing.Cli;
import qdm.testing.LocalSpark;
import qdm.testing.Reference;
import qdm.testing.TinyAudit;
import qdm.testing.TinyModels;

/**
 * {@code jobs/qdm run} end to end on a tiny model of every architecture added for the public SAEs
 * (gpt2, llama, qwen2, mistral, gemma), each with its SAE at another hook site (resid_pre,
 * resid_post, mlp_out, attn_out, attn.hook_z), so the encode stage captures each site. Oracles: the
 * run completes and {@code verify} passes (the FP null run has r = 1 for every active feature),
 * every configured condition is in the table, and compression moves the codes.
 */
class ArchitecturesAuditTest {
  @TempDir static Path tmp;

  private record Case(String name, String hook, int dIn) {}

  private static Path model(String name) throws IOException {
    Path dir = tmp.resolve(name + "/model");
    switch (name) {
      case "gpt2", "llama" -> {
        Files.createDirectories(dir);
        for (String f : new String[] {"config.json", "model.safetensors"}) {
          Files.copy(
              Reference.model(name).resolve(f),
              dir.resolve(f),
              StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(dir.resolve("tokenizer.json"), TinyAudit.wordLevelTokenizer(512));
      }
      case "qwen2" -> TinyModels.write(dir, TinyModels.qwen2(31));
      case "mistral" -> TinyModels.write(dir, TinyModels.mistral(8, 32));
      case "gemma" -> TinyModels.write(dir, TinyModels.gemma(33));
      default -> throw new IllegalArgumentException(name);
    }
    return dir;
  }

  @Test
  void everyNewArchitectureRunsTheWholeAudit() throws IOException {
    LocalSpark.get();
    List<Case> cases =
        List.of(
            new Case("gpt2", "blocks.1.hook_resid_pre", 64),
            new Case("llama", "blocks.2.hook_resid_post", 64),
            new Case("qwen2", "blocks.1.hook_mlp_out", 32),
            new Case("mistral", "blocks.1.hook_attn_out", 32),
            new Case("gemma", "blocks.1.attn.hook_z", 32));
    for (Case c : cases) {
      Path model = model(c.name());
      Path sae = Files.createDirectories(tmp.resolve(c.name() + "/sae"));
      TinyAudit.writeSae(sae, c.dIn(), 64, 41);
      Path cfg = sae.resolve("cfg.json");
      Files.writeString(cfg, Files.readString(cfg).replace(TinyAudit.HOOK, c.hook()));
      Path corpus = Files.createDirectories(tmp.resolve(c.name() + "/corpus"));
      Files.writeString(corpus.resolve("a.txt"), TinyAudit.randomText(900, 3));
      Path conf = tmp.resolve(c.name() + "/audit.conf");
      Files.writeString(
          conf,
          """
          qdm {
            run-name = "%s"
            output = "%s"
            model.path = "%s"
            sae.path = "%s"
            corpus { paths = ["%s"], max-tokens = 256 }
            windows { chunk-length = 32, sliding { length = 48, stride = 16, max-tokens = 200 } }
            conditions = [
              { name = fp, method = none }
              { name = rtn4, method = rtn, bits = 4 }
              { name = prune30, method = prune, sparsity = 0.3, convention = tl }
            ]
            analysis.overlap = [[rtn4, prune30]]
            execution { batch-size = 4, windows-per-task = 8 }
            spark.master = "local[2]"
          }
          """
              .formatted(c.name(), tmp.resolve(c.name() + "/out"), model, sae, corpus));
      Cli.Result r = Cli.run("run", conf.toString());
      assertEquals(0, r.exit(), c.name() + "\n" + r.all());
      Cli.Result v = Cli.run("verify", conf.toString());
      assertEquals(0, v.exit(), c.name() + "\n" + v.all());
      RunLayout layout =
          new RunLayout(tmp.resolve(c.name() + "/out").toString(), c.name(), new Configuration());
      assertTrue(RunState.of(layout).complete(), c.name());
      List<Row> rows =
          LocalSpark.get()
              .read()
              .parquet(layout.table("conditions").toString())
              .orderBy("condition")
              .collectAsList();
      assertEquals(
          List.of("fp", "fp-null", "prune30", "rtn4"),
          rows.stream().map(x -> x.<String>getAs("condition")).toList(),
          c.name());
      double rtnMeanR = rows.get(3).<Double>getAs("mean_r");
      assertTrue(
          rtnMeanR < 1.0 - 1e-6, c.name() + ": rtn4 left every code unchanged (" + rtnMeanR + ")");
    }
  }
}
