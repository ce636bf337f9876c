package qdm.sae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import qdm.QdmException;
import qdm.model.HookPoint;
import qdm.model.Model;
import qdm.model.ModelConfig;
import qdm.model.ModelFiles;
import qdm.testing.Reference;

/**
 * Bad SAEs and SAEs that do not fit the model fail before any compute, with one message that names
 * the file and the setting. Only configurations are read here; no weights are loaded.
 */
class SaeErrorsTest {
  @TempDir Path tmp;

  static final Fixtures.Weights W = Fixtures.weights(Fixtures.D_IN, Fixtures.D_SAE);

  static ModelConfig neox() {
    return Model.readConfig(ModelFiles.of(Reference.model("neox"))); // 3 blocks, d 64
  }

  Path saeLens(String name, String cfg, boolean threshold) {
    return Fixtures.writeSaeLens(tmp.resolve(name), W, cfg, threshold);
  }

  static SaeConfig read(Path path) {
    return Sae.readConfig(path, SaeFormat.AUTO, Optional.empty());
  }

  static void fails(Executable e, String... words) {
    QdmException ex = assertThrows(QdmException.class, e);
    for (String w : words) {
      assertTrue(ex.getMessage().contains(w), "'" + w + "' not in: " + ex.getMessage());
    }
  }

  // ---- compatibility with the model

  @Test
  void acceptsAnSaeThatFits() {
    SaeConfig c = read(saeLens("fits", Fixtures.saeLensV6("standard", ""), false));
    c.checkCompatible(neox());
    c.checkCompatible(neox(), Optional.of("EleutherAI/pythia-70m-deduped"));
    c.checkCompatible(neox(), Optional.of("pythia_70m_deduped"));
  }

  @Test
  void rejectsAnotherWidth() {
    Fixtures.Weights narrow = Fixtures.weights(32, Fixtures.D_SAE);
    Path dir =
        Fixtures.writeSaeLens(
            tmp.resolve("narrow"),
            narrow,
            Fixtures.saeLensV6("standard", "").replace("'d_in': 64", "'d_in': 32"),
            false);
    SaeConfig c = read(dir);
    fails(() -> c.checkCompatible(neox()), dir.toString(), "d_in", "32", "64");
  }

  @Test
  void rejectsAHookOutsideTheModel() {
    SaeConfig c =
        read(
            saeLens(
                "deep",
                Fixtures.saeLensV6("standard", "")
                    .replace("blocks.1.hook_resid_post", "blocks.3.hook_resid_post"),
                false));
    fails(() -> c.checkCompatible(neox()), "blocks.3.hook_resid_post", "3 blocks");
    // resid_pre of block 3 is the output of block 2: inside
    SaeConfig pre =
        read(
            saeLens(
                "pre",
                Fixtures.saeLensV6("standard", "")
                    .replace("blocks.1.hook_resid_post", "blocks.3.hook_resid_pre"),
                false));
    assertEquals(2, pre.hook().block());
    pre.checkCompatible(neox());
  }

  @Test
  void rejectsAnSaeForAnotherModel() {
    SaeConfig c = read(saeLens("other", Fixtures.saeLensV6("standard", ""), false));
    fails(
        () -> c.checkCompatible(neox(), Optional.of("EleutherAI/pythia-70m")),
        "'pythia-70m-deduped'",
        "'EleutherAI/pythia-70m'");
    SaeConfig gemma =
        read(
            saeLens(
                "gemma",
                Fixtures.saeLensV6("standard", "").replace("pythia-70m-deduped", "gemma-2-2b"),
                false));
    fails(() -> gemma.checkCompatible(neox()), "gemma-2-2b", "gemma2", "gpt_neox");
  }

  @Test
  void reportsEveryProblemAtOnce() {
    Fixtures.Weights narrow = Fixtures.weights(32, Fixtures.D_SAE);
    Path dir =
        Fixtures.writeSaeLens(
            tmp.resolve("all-wrong"),
            narrow,
            Fixtures.saeLensV6("standard", "")
                .replace("'d_in': 64", "'d_in': 32")
                .replace("blocks.1.", "blocks.7."),
            false);
    SaeConfig c = read(dir);
    fails(() -> c.checkCompatible(neox(), Optional.of("gpt2")), "d_in", "blocks.7", "'gpt2'");
  }

  // ---- SAELens settings

  @Test
  void rejectsUnsupportedNormalization() {
    for (String mode : new String[] {"batch_norm", "l2"}) {
      Path dir =
          saeLens(
              mode,
              Fixtures.saeLensV6("standard", "")
                  .replace(
                      "'normalize_activations': 'none'", "'normalize_activations': '" + mode + "'"),
              false);
      fails(() -> read(dir), dir.resolve("cfg.json").toString(), mode, "not supported");
    }
  }

  @Test
  void rejectsExpectedAverageWithoutAScalingFactor() {
    Path dir =
        saeLens(
            "unscaled",
            Fixtures.saeLensV6("standard", "")
                .replace(
                    "'normalize_activations': 'none'",
                    "'normalize_activations': 'expected_average_only_in'"),
            false);
    fails(
        () -> read(dir),
        "expected_average_only_in",
        "activation_scaler.json",
        "norm_scaling_factor");
    Fixtures.writeJson(dir.resolve("activation_scaler.json"), "{'scaling_factor': null}");
    fails(() -> read(dir), "no scaling factor");
  }

  @Test
  void rejectsAScalingFactorTheConfigDoesNotAskFor() {
    Path dir = saeLens("ambiguous", Fixtures.saeLensV6("standard", ""), false);
    Fixtures.writeJson(dir.resolve("activation_scaler.json"), "{'scaling_factor': 3.0}");
    fails(() -> read(dir), "normalize_activations is none", "scaling_factor 3.0");
    Fixtures.writeJson(dir.resolve("activation_scaler.json"), "{'scaling_factor': null}");
    assertEquals(1.0, read(dir).inputScale()); // what SAELens writes once it has folded
  }

  @Test
  void rejectsUnsupportedArchitecturesAndActivations() {
    Path other = saeLens("matryoshka", Fixtures.saeLensV6("matryoshka_batchtopk", ""), false);
    fails(
        () -> read(other),
        "architecture 'matryoshka_batchtopk'",
        "standard, jumprelu, topk, gated");
    Path tanh = saeLens("tanh", Fixtures.saeLensFlat("standard", "tanh-relu", ""), false);
    fails(() -> read(tanh), "activation_fn 'tanh-relu'");
  }

  @Test
  void rejectsSettingsQdmCannotHonour() {
    Path head =
        saeLens(
            "head",
            Fixtures.saeLensV6("standard", "")
                .replace("'hook_head_index': null", "'hook_head_index': 2"),
            false);
    // a head index or hook_z reshaping on a site without heads
    fails(() -> read(head), "hook_head_index", "has no heads");
    Path z =
        saeLens(
            "hookz",
            Fixtures.saeLensV6("standard", "")
                .replace("'reshape_activations': 'none'", "'reshape_activations': 'hook_z'"),
            false);
    fails(() -> read(z), "reshape_activations 'hook_z'", "blocks.1.hook_resid_post");
    Path rescale =
        saeLens(
            "rescale",
            Fixtures.saeLensV6("topk", ", 'k': 4, 'rescale_acts_by_decoder_norm': true"),
            false);
    fails(() -> read(rescale), "rescale_acts_by_decoder_norm");
  }

  @Test
  void rejectsHookSitesQdmDoesNotCapture() {
    Path mlpIn =
        saeLens(
            "mlpin",
            Fixtures.saeLensFlat("standard", "relu", "")
                .replace("blocks.1.hook_resid_post", "blocks.1.hook_mlp_in"),
            false);
    fails(() -> read(mlpIn), "cfg.json", "blocks.1.hook_mlp_in", "not supported");
    Path mlp =
        saeLens(
            "mlp",
            Fixtures.saeLensFlat("standard", "relu", "")
                .replace("blocks.1.hook_resid_post", "blocks.1.hook_mlp_out"),
            false);
    assertEquals("blocks.1.hook_mlp_out", read(mlp).hook().toString());
    Path embed =
        saeLens(
            "embed",
            Fixtures.saeLensV6("standard", "")
                .replace("blocks.1.hook_resid_post", "blocks.0.hook_resid_pre"),
            false);
    assertEquals(-1, read(embed).hook().block()); // the embedding output
  }

  @Test
  void rejectsAGivenHookThatContradictsTheFiles() {
    Path dir = saeLens("hook", Fixtures.saeLensV6("standard", ""), false);
    fails(
        () -> Sae.readConfig(dir, SaeFormat.SAELENS, Optional.of("blocks.2.hook_resid_post")),
        "blocks.1.hook_resid_post",
        "blocks.2.hook_resid_post");
    assertEquals(
        HookPoint.residPost(1),
        Sae.readConfig(dir, SaeFormat.SAELENS, Optional.of("blocks.1.hook_resid_post")).hook());
  }

  @Test
  void rejectsTensorsThatDisagreeWithTheConfig() {
    Path noThreshold = saeLens("nothreshold", Fixtures.saeLensV6("jumprelu", ""), false);
    fails(() -> read(noThreshold), "sae_weights.safetensors", "missing tensor 'threshold'");
    Path extra = saeLens("extra", Fixtures.saeLensV6("standard", ""), true);
    fails(() -> read(extra), "unexpected tensor 'threshold'");
    Path wide =
        saeLens(
            "wide",
            Fixtures.saeLensV6("standard", "").replace("'d_sae': 256", "'d_sae': 512"),
            false);
    fails(() -> read(wide), "3 problem(s)", "'W_enc' has shape [64, 256], expected [64, 512]");
  }

  @Test
  void rejectsBadTopK() {
    Path big = saeLens("bigk", Fixtures.saeLensV6("topk", ", 'k': 300"), false);
    fails(() -> read(big), "k in 1..256", "300");
    Path none = saeLens("nok", Fixtures.saeLensFlat("standard", "topk", ""), false);
    fails(() -> read(none), "cfg.json", "activation_fn_kwargs");
  }

  @Test
  void rejectsAFineTuningScaleTheConfigDoesNotDeclare() {
    Path dir = saeLens("finetune", Fixtures.saeLensFlat("standard", "relu", ""), false);
    float[] s = Fixtures.values(Fixtures.D_SAE, 6);
    SaeEncodeTest.addTensor(dir.resolve("sae_weights.safetensors"), W, "scaling_factor", s);
    fails(() -> read(dir), "'scaling_factor' is not all ones", "finetuning_scaling_factor");
    float[] ones = new float[Fixtures.D_SAE];
    java.util.Arrays.fill(ones, 1f);
    SaeEncodeTest.addTensor(dir.resolve("sae_weights.safetensors"), W, "scaling_factor", ones);
    read(dir); // all ones: a no-op SAELens drops as well
  }

  // ---- Gemma Scope

  Path gemmaScopeAt(String relative) throws IOException {
    Path target = tmp.resolve(relative).resolve("params.npz");
    Files.createDirectories(target.getParent());
    Files.copy(Fixtures.resources().resolve("gemmascope/layer_1/width_256/params.npz"), target);
    return target;
  }

  @Test
  void takesGemmaScopeLayerWidthAndModelFromThePath() throws IOException {
    SaeConfig c = read(gemmaScopeAt("gemma-scope-2b-pt-res/layer_2/width_256/average_l0_9"));
    assertEquals(HookPoint.residPost(2), c.hook());
    assertEquals(Optional.of("gemma-2-2b"), c.modelName());
    fails(() -> c.checkCompatible(neox()), "gemma-2-2b", "gpt_neox");
    assertEquals(
        Optional.of("gemma-2-9b-it"),
        read(gemmaScopeAt("gemma-scope-9b-it-res/layer_2/width_256")).modelName());
  }

  @Test
  void readsGemmaScopeWidthsAsTheirPowersOfTwo() {
    long[][] cases = {
      {4, 4096}, {16, 16384}, {32, 32768}, {65, 65536}, {131, 131072}, {262, 262144}, {524, 524288}
    };
    for (long[] c : cases) {
      assertEquals(c[1], GemmaScopeFormat.width(c[0], "k"), c[0] + "k");
    }
    assertEquals(1L << 20, GemmaScopeFormat.width(1, "m"));
    assertEquals(256, GemmaScopeFormat.width(256, ""));
  }

  @Test
  void rejectsGemmaScopePathsThatDisagreeWithTheFile() throws IOException {
    Path wide = gemmaScopeAt("layer_1/width_16k");
    fails(() -> read(wide), "width 16384", "256 features");
    Path mlp = gemmaScopeAt("gemma-scope-2b-pt-mlp/layer_1/width_256");
    fails(() -> read(mlp), "'mlp'", "residual");
  }

  @Test
  void needsAHookWhenTheGemmaScopePathHasNoLayer() throws IOException {
    Path bare = gemmaScopeAt("bare");
    fails(() -> read(bare), "bare", "cannot tell which hook");
    assertEquals(
        HookPoint.residPost(2),
        Sae.readConfig(bare, SaeFormat.GEMMASCOPE, Optional.of("blocks.2.hook_resid_post")).hook());
  }

  // ---- sparsify

  Path sparsify(String dirName, String cfg) {
    return Fixtures.writeSparsify(tmp.resolve(dirName), W, cfg);
  }

  @Test
  void rejectsSparsifyVariantsThatAreNotPlainSaes() {
    Path groupmax = sparsify("a/layers.1", "{'activation': 'groupmax', 'k': 4}");
    fails(() -> read(groupmax), "activation 'groupmax'");
    Path transcoder = sparsify("b/layers.1", "{'k': 4, 'num_latents': 256, 'transcode': true}");
    fails(() -> read(transcoder), "transcode true");
    Path skip = sparsify("c/layers.1", "{'k': 4, 'num_latents': 256, 'skip_connection': true}");
    fails(() -> read(skip), "skip_connection true");
  }

  @Test
  void rejectsSparsifyShapesThatDisagreeWithTheConfig() {
    Path dir = sparsify("d/layers.1", "{'k': 4, 'num_latents': 128, 'd_in': 64}");
    fails(
        () -> read(dir),
        "sae.safetensors",
        "128 latents",
        "'encoder.weight' has shape [256, 64], expected [128, 64]");
  }

  @Test
  void takesTheSparsifyHookFromTheDirectoryOrTheCaller() {
    Path dir = sparsify("e/encoder", "{'k': 4, 'num_latents': 256}");
    fails(() -> read(dir), "encoder", "cannot tell which hook");
    assertEquals(
        HookPoint.residPost(2),
        Sae.readConfig(dir, SaeFormat.SPARSIFY, Optional.of("blocks.2.hook_resid_post")).hook());
    Path mlp = sparsify("f/layers.1.mlp", "{'k': 4, 'num_latents': 256}");
    fails(() -> read(mlp), "cannot tell which hook");
  }

  // ---- files and formats

  @Test
  void rejectsDirectoriesOfNoKnownFormat() throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    fails(
        () -> read(empty),
        "cannot tell the SAE format",
        "sae_weights.safetensors",
        "params.npz",
        "sae.safetensors");
    fails(() -> read(tmp.resolve("nowhere")), "nowhere", "not found");
    fails(
        () -> Sae.readConfig(empty, SaeFormat.SAELENS, Optional.empty()),
        "cfg.json",
        "no such file");
    fails(() -> SaeFormat.parse("pickle"), "'pickle'", "auto, saelens, gemmascope, sparsify");
    assertEquals(SaeFormat.GEMMASCOPE, SaeFormat.parse("gemma-scope"));
  }
}
