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
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.probe.ForwardRequest;
import qdm.testing.Reference;
import qdm.testing.TinyModels;

/**
 * The CE-loss splice ({@link Transformer#splicedLastResidual}) against relations that must hold:
 * splicing a site's own activation back in gives the clean pass; replacing {@code hook_attn_out} by
 * A gives what replacing {@code hook_resid_mid} by resid_pre + A gives; and a replacement at {@code
 * blocks.L.hook_resid_post} is the same as at {@code blocks.L+1.hook_resid_pre}.
 */
class SpliceTest {
  @TempDir Path tmp;

  @Test
  void splicesAgreeWithTheCleanPassAndWithEachOther() {
    TinyModels.write(tmp.resolve("mistral"), TinyModels.mistral(3, 23));
    Path[] dirs = {
      Reference.model("neox"),
      Reference.model("gpt2"),
      Reference.model("llama"),
      Reference.model("gemma2"),
      tmp.resolve("mistral")
    };
    long[][] ids = ForwardRequest.readInputIds(Reference.model("llama").resolve("inputs.json"));
    for (Path dir : dirs) {
      try (NDManager root = TorchEngine.newManager(Device.cpu());
          Model m = Model.load(ModelFiles.of(dir), root, Device.cpu(), DataType.FLOAT32);
          NDManager batch = root.newSubManager()) {
        String name = dir.getFileName().toString();
        Transformer t = m.transformer();
        int layers = m.config().numLayers();
        long[] flat = new long[ids.length * ids[0].length];
        for (int b = 0; b < ids.length; b++) {
          System.arraycopy(ids[b], 0, flat, b * ids[0].length, ids[0].length);
        }
        NDArray tokens = batch.create(flat, new Shape(ids.length, ids[0].length));
        boolean parallel = m.config().parallelResidual();
        Set<HookPoint> sites = new HashSet<>();
        for (int layer = 0; layer < 2; layer++) {
          for (HookPoint.Site s : HookPoint.Site.values()) {
            if (!(parallel && s == HookPoint.Site.RESID_MID) && s != HookPoint.Site.RESID_POST) {
              sites.add(new HookPoint(layer, s));
            }
          }
        }
        Set<Integer> all = new TreeSet<>();
        for (int l = 0; l < layers; l++) {
          all.add(l);
        }
        Activations a = t.forward(tokens, new Capture(all, false, false, false, sites));
        NDArray clean = a.residPost(layers - 1);
        Set<HookPoint> every = new HashSet<>(sites);
        every.add(HookPoint.residPost(1));
        every.add(HookPoint.residPost(layers - 1));
        for (HookPoint h : every) {
          close(clean, t.splicedLastResidual(tokens, a, h, a.at(h)), name + " " + h + " itself");
        }
        NDArray noise = a.at(new HookPoint(1, HookPoint.Site.ATTN_OUT)).mul(0.5f).add(0.3f);
        if (!parallel) {
          NDArray viaMid =
              t.splicedLastResidual(
                  tokens,
                  a,
                  new HookPoint(1, HookPoint.Site.RESID_MID),
                  a.at(new HookPoint(1, HookPoint.Site.RESID_PRE)).add(noise));
          NDArray viaAttn =
              t.splicedLastResidual(tokens, a, new HookPoint(1, HookPoint.Site.ATTN_OUT), noise);
          close(viaMid, viaAttn, name + " attn_out vs resid_mid");
          assertTrue(
              viaAttn.sub(clean).abs().max().getFloat() > 1e-2, name + ": the splice changes it");
        }
        close(
            t.splicedLastResidual(tokens, a, HookPoint.residPost(0), noise),
            t.splicedLastResidual(tokens, a, new HookPoint(1, HookPoint.Site.RESID_PRE), noise),
            name + " resid_post 0 vs resid_pre 1");
      }
    }
  }

  private static void close(NDArray expected, NDArray actual, String what) {
    float diff = expected.sub(actual).abs().max().getFloat();
    float scale = expected.abs().max().getFloat();
    assertTrue(diff <= 1e-4 * Math.max(1, scale), what + ": max diff " + diff);
  }
}
