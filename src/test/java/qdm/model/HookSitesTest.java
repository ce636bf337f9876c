package qdm.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.probe.ForwardRequest;
import qdm.testing.Reference;
import qdm.testing.TinyModels;

/**
 * The hook sites of every architecture obey TransformerLens's identities: {@code resid_mid =
 * resid_pre + attn_out} and {@code resid_post = resid_mid + mlp_out} (parallel residual: {@code
 * resid_post = resid_pre + attn_out + mlp_out}), and {@code attn_out = hook_z W_O^T + b_O} for
 * models without a post-attention norm; {@code blocks.0.hook_resid_pre} is the embedding output; a
 * pass that captures only a site stops at its block and gives the same values as the full pass.
 */
class HookSitesTest {
  @TempDir Path tmp;

  /** Output projection (and bias) of block 1, per model directory. */
  private record Arch(String name, Path dir, String outWeight, String outBias) {}

  @Test
  void hookSitesSumBackToTheResidualStream() {
    TinyModels.write(tmp.resolve("qwen2"), TinyModels.qwen2(21));
    TinyModels.write(tmp.resolve("gemma"), TinyModels.gemma(22));
    TinyModels.write(tmp.resolve("mistral"), TinyModels.mistral(3, 23));
    Arch[] archs = {
      new Arch(
          "neox",
          Reference.model("neox"),
          "gpt_neox.layers.1.attention.dense.weight",
          "gpt_neox.layers.1.attention.dense.bias"),
      new Arch(
          "gpt2",
          Reference.model("gpt2"),
          "transformer.h.1.attn.c_proj.weight",
          "transformer.h.1.attn.c_proj.bias"),
      new Arch("llama", Reference.model("llama"), "model.layers.1.self_attn.o_proj.weight", null),
      new Arch("gemma2", Reference.model("gemma2"), null, null),
      new Arch("qwen2", tmp.resolve("qwen2"), "model.layers.1.self_attn.o_proj.weight", null),
      new Arch("gemma", tmp.resolve("gemma"), "model.layers.1.self_attn.o_proj.weight", null),
      new Arch("mistral", tmp.resolve("mistral"), "model.layers.1.self_attn.o_proj.weight", null)
    };
    long[][] ids = ForwardRequest.readInputIds(Reference.model("llama").resolve("inputs.json"));
    for (Arch arch : archs) {
      try (NDManager root = TorchEngine.newManager(Device.cpu());
          Model m = Model.load(ModelFiles.of(arch.dir()), root, Device.cpu(), DataType.FLOAT32);
          NDManager batch = root.newSubManager()) {
        long[] flat = new long[ids.length * ids[0].length];
        for (int b = 0; b < ids.length; b++) {
          System.arraycopy(ids[b], 0, flat, b * ids[0].length, ids[0].length);
        }
        NDArray tokens = batch.create(flat, new Shape(ids.length, ids[0].length));
        Set<HookPoint> sites = new HashSet<>();
        boolean parallel = m.config().parallelResidual();
        for (HookPoint.Site s : HookPoint.Site.values()) {
          if (!(parallel && s == HookPoint.Site.RESID_MID)) {
            sites.add(new HookPoint(1, s));
          }
        }
        sites.add(new HookPoint(0, HookPoint.Site.RESID_PRE));
        Activations a =
            m.transformer().forward(tokens, new Capture(Set.of(0, 1), true, false, false, sites));
        NDArray pre = a.at(new HookPoint(1, HookPoint.Site.RESID_PRE));
        NDArray attn = a.at(new HookPoint(1, HookPoint.Site.ATTN_OUT));
        NDArray mlp = a.at(new HookPoint(1, HookPoint.Site.MLP_OUT));
        NDArray post = a.at(HookPoint.residPost(1));
        if (parallel) {
          close(pre.add(attn).add(mlp), post, arch.name() + " parallel resid_post");
        } else {
          NDArray mid = a.at(new HookPoint(1, HookPoint.Site.RESID_MID));
          close(pre.add(attn), mid, arch.name() + " resid_mid");
          close(mid.add(mlp), post, arch.name() + " resid_post");
        }
        if (arch.outWeight() != null) {
          NDArray z = a.at(new HookPoint(1, HookPoint.Site.ATTN_Z));
          NDArray fromZ =
              Ops.linear(
                  z,
                  m.weights().get(arch.outWeight()),
                  arch.outBias() == null ? null : m.weights().get(arch.outBias()));
          close(fromZ, attn, arch.name() + " z W_O + b_O");
        }
        close(
            a.hiddenStates().get(0),
            a.at(new HookPoint(0, HookPoint.Site.RESID_PRE)),
            arch.name() + " blocks.0.hook_resid_pre");
        // a pass capturing only the MLP output of block 1 stops there and agrees
        NDArray alone =
            m.transformer()
                .forward(tokens, Capture.at(new HookPoint(1, HookPoint.Site.MLP_OUT)))
                .at(new HookPoint(1, HookPoint.Site.MLP_OUT));
        close(mlp, alone, arch.name() + " mlp_out alone");
      }
    }
  }

  private static void close(NDArray expected, NDArray actual, String what) {
    float diff = expected.sub(actual).abs().max().getFloat();
    assertTrue(diff <= 1e-4, what + ": max diff " + diff);
  }
}
