package qdm.sae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.io.HostTensor;
import qdm.model.Activations;
import qdm.model.Capture;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.TorchEngine;
import qdm.probe.ForwardRequest;
import qdm.testing.Reference;

/**
 * SAEs on real residuals: the reference GPT-NeoX model runs to the SAE's hook (layer 1), the
 * captured residual is Hugging Face's {@code hidden_states[2]}, and its codes agree with the naive
 * oracle.
 */
class SaeResidualTest {
  @TempDir Path tmp;

  @Test
  void encodesTheResidualAtTheHookOfTheReferenceModel() {
    Path modelDir = Reference.model("neox");
    long[][] ids = ForwardRequest.readInputIds(modelDir.resolve("inputs.json"));
    int batchSize = ids.length;
    int seqLen = ids[0].length;
    int tokens = batchSize * seqLen;
    HostTensor hfHidden =
        Reference.read(modelDir.resolve("expected.safetensors"), "hidden_states.2");
    Fixtures.Weights w = Fixtures.weights(Fixtures.D_IN, Fixtures.D_SAE);
    Path gemmaScope = Fixtures.resources().resolve("gemmascope/layer_1/width_256/params.npz");
    Path saeLens =
        Fixtures.writeSaeLens(tmp.resolve("saelens"), w, Fixtures.saeLensV6("standard", ""), false);

    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model model = Model.load(ModelFiles.of(modelDir), root, Device.cpu(), DataType.FLOAT32)) {
      for (Object[] c :
          new Object[][] {
            {gemmaScope, new NaiveSae("jumprelu", w, false, 0, 1)},
            {saeLens, new NaiveSae("standard", w, true, 0, 1)}
          }) {
        SaeConfig config = Sae.readConfig((Path) c[0], SaeFormat.AUTO, Optional.empty());
        config.checkCompatible(model.config(), ModelName.of(modelDir));
        try (Sae sae = Sae.load(config, root);
            NDManager batch = root.newSubManager()) {
          long[] flat = new long[tokens];
          for (int b = 0; b < batchSize; b++) {
            System.arraycopy(ids[b], 0, flat, b * seqLen, seqLen);
          }
          NDArray input = batch.create(flat, new Shape(batchSize, seqLen));
          Activations acts =
              model.transformer().forward(input, Capture.residualAt(sae.hook().block()));
          NDArray resid = acts.residPost(sae.hook().block());
          float[] residual = resid.toFloatArray();
          Reference.assertClose(
              hfHidden,
              new HostTensor(resid.getShape().getShape(), residual),
              1e-4,
              "blocks.1.hook_resid_post vs hidden_states[2]");

          NaiveSae oracle = (NaiveSae) c[1];
          NaiveSae.Codes expected = oracle.encode(residual, tokens);
          NDArray codes = sae.encode(resid);
          assertEquals(new Shape(batchSize, seqLen, Fixtures.D_SAE), codes.getShape());
          float[] dense = codes.toFloatArray();
          int firing = NaiveSae.assertMatches(expected, dense);
          assertTrue(
              firing > dense.length / 20 && firing < dense.length * 19 / 20,
              firing + " active entries");

          EncodedBatch encoded = sae.encodeBatch(resid);
          assertEquals(SaeEncodeTest.nonZeros(dense, tokens, Fixtures.D_SAE), encoded.codes());
          double[] actsD = new double[dense.length];
          for (int i = 0; i < dense.length; i++) {
            actsD[i] = dense[i];
          }
          double fvu =
              SaeEncodeTest.naiveFvu(residual, oracle.decode(actsD, tokens), tokens, Fixtures.D_IN);
          assertEquals(fvu, encoded.figures().fvu(), 1e-4 * fvu);
        }
      }
    }
  }
}
