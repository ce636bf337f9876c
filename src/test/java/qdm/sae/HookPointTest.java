package qdm.sae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.QdmException;
import qdm.model.HookPoint;

/** Hook names and model names: the two vocabularies an SAE is matched to a model with. */
class HookPointTest {
  @TempDir Path tmp;

  @Test
  void parsesResidualStreamHooks() {
    HookPoint post = HookPoint.parse("blocks.12.hook_resid_post");
    assertEquals(12, post.layer());
    assertEquals(12, post.block());
    assertEquals("blocks.12.hook_resid_post", post.toString());
    HookPoint pre = HookPoint.parse("blocks.4.hook_resid_pre");
    assertEquals(3, pre.block()); // the input of block 4 is the output of block 3
    assertEquals("blocks.4.hook_resid_pre", pre.toString());
    assertEquals(post, HookPoint.parse(post.toString()));
  }

  @Test
  void parsesEverySiteInsideABlock() {
    for (String name :
        new String[] {
          "blocks.0.hook_resid_pre",
          "blocks.3.hook_resid_mid",
          "blocks.3.hook_attn_out",
          "blocks.3.hook_mlp_out",
          "blocks.3.attn.hook_z"
        }) {
      assertEquals(name, HookPoint.parse(name).toString());
    }
    assertEquals(-1, HookPoint.parse("blocks.0.hook_resid_pre").block());
    assertEquals(3, HookPoint.parse("blocks.3.attn.hook_z").block());
  }

  @Test
  void rejectsOtherSites() {
    for (String name :
        new String[] {
          "blocks.4.attn.hook_q",
          "blocks.4.hook_mlp_in",
          "hook_embed",
          "layers.4",
          "blocks.x.hook_resid_post"
        }) {
      QdmException e = assertThrows(QdmException.class, () -> HookPoint.parse(name), name);
      assertTrue(e.getMessage().contains(name), e.getMessage());
    }
  }

  @Test
  void matchesModelNamesAcrossSpellings() {
    assertTrue(ModelName.same("pythia-70m-deduped", "EleutherAI/pythia-70m-deduped"));
    assertTrue(ModelName.same("Gemma-2-2B", "google/gemma-2-2b"));
    assertFalse(ModelName.same("pythia-70m", "EleutherAI/pythia-70m-deduped"));
    assertFalse(ModelName.same("gemma-2-2b", "gemma-2-2b-it"));
    assertEquals(Optional.of("gpt_neox"), ModelName.family("EleutherAI/pythia-410m"));
    assertEquals(Optional.of("gemma2"), ModelName.family("gemma-2-9b-it"));
    assertEquals(Optional.empty(), ModelName.family("google/gemma-2b")); // Gemma 1
    assertEquals(Optional.empty(), ModelName.family("gpt2-small"));
  }

  @Test
  void readsTheModelNameAHubConfigRecords() throws Exception {
    Fixtures.writeJson(
        tmp.resolve("hub/config.json"),
        "{'_name_or_path': 'EleutherAI/pythia-70m-deduped', 'model_type': 'gpt_neox'}");
    assertEquals(Optional.of("EleutherAI/pythia-70m-deduped"), ModelName.of(tmp.resolve("hub")));
    Fixtures.writeJson(
        tmp.resolve("local/config.json"),
        "{'_name_or_path': '/scratch/run-3/checkpoint', 'model_type': 'gpt_neox'}");
    assertEquals(Optional.empty(), ModelName.of(tmp.resolve("local")));
    assertEquals(Optional.empty(), ModelName.of(tmp.resolve("nothing")));
  }
}
