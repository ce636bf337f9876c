package qdm.sae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.QdmException;
import qdm.io.HostTensor;
import qdm.io.SafetensorsWriter;
import qdm.model.TorchEngine;

/**
 * SAELens's input options and the other SAE layouts against naive double-precision computations of
 * their published formulas: {@code normalize_activations = constant_norm_rescale} (x sqrt(d_in) /
 * ||x||) and {@code layer_norm} ((x - mean) / (std + 1e-5), unbiased std), the {@code gated}
 * architecture, {@code hook_head_index} on a flattened {@code attn.hook_z}, Llama Scope's folder
 * (normalization folded, threshold scaled as SAELens does); pickled SAEs are refused with a
 * conversion hint.
 */
class SaeOptionsTest {
  static final int D = Fixtures.D_IN;
  static final int F = Fixtures.D_SAE;
  static final int N = 12;

  @TempDir Path tmp;

  private static float[] encode(Path path, SaeFormat format, float[] x, int width) {
    try (NDManager m = TorchEngine.newManager(Device.cpu());
        Sae sae = Sae.load(path, format, Optional.empty(), m)) {
      return sae.encode(m.create(x, new Shape(N, width))).toFloatArray();
    }
  }

  private static double[] pre(double[] in, Fixtures.Weights w, float[] bias) {
    double[] p = new double[F];
    for (int f = 0; f < F; f++) {
      double s = bias[f];
      for (int i = 0; i < D; i++) {
        s += in[i] * w.wEnc()[i * F + f];
      }
      p[f] = s;
    }
    return p;
  }

  private static void assertCodes(double[][] expected, float[] actual) {
    for (int t = 0; t < N; t++) {
      for (int f = 0; f < F; f++) {
        double e = expected[t][f];
        assertEquals(
            e, actual[t * F + f], 1e-4 * Math.max(1, Math.abs(e)), "token " + t + " feature " + f);
      }
    }
  }

  @Test
  void runTimeNormalizationsMatchTheirFormulas() {
    Fixtures.Weights w = Fixtures.weights(D, F);
    float[] x = Fixtures.inputs(N, D, 40f);
    for (String mode : new String[] {"constant_norm_rescale", "layer_norm"}) {
      Path dir =
          Fixtures.writeSaeLens(
              tmp.resolve(mode),
              w,
              Fixtures.saeLensV6("standard", "")
                  .replace(
                      "'normalize_activations': 'none'", "'normalize_activations': '" + mode + "'"),
              false);
      double[][] expected = new double[N][];
      for (int t = 0; t < N; t++) {
        double[] in = new double[D];
        double sum = 0;
        double sq = 0;
        for (int i = 0; i < D; i++) {
          sum += x[t * D + i];
          sq += (double) x[t * D + i] * x[t * D + i];
        }
        double mean = sum / D;
        double var = 0;
        for (int i = 0; i < D; i++) {
          var += (x[t * D + i] - mean) * (x[t * D + i] - mean);
        }
        double std = Math.sqrt(var / (D - 1));
        for (int i = 0; i < D; i++) {
          double v =
              mode.equals("layer_norm")
                  ? (x[t * D + i] - mean) / (std + 1e-5)
                  : x[t * D + i] * Math.sqrt(D) / Math.sqrt(sq);
          in[i] = v - w.bDec()[i]; // apply_b_dec_to_input after the normalization
        }
        double[] p = pre(in, w, w.bEnc());
        for (int f = 0; f < F; f++) {
          p[f] = Math.max(p[f], 0);
        }
        expected[t] = p;
      }
      assertCodes(expected, encode(dir, SaeFormat.AUTO, x, D));
    }
  }

  @Test
  void gatedSaesGateTheMagnitude() {
    Fixtures.Weights w = Fixtures.weights(D, F);
    float[] rMag = Fixtures.values(F, 21);
    float[] bMag = Fixtures.values(F, 22);
    Path dir = tmp.resolve("gated");
    new SafetensorsWriter()
        .add("W_enc", new HostTensor(new long[] {D, F}, w.wEnc()))
        .add("b_gate", new HostTensor(new long[] {F}, w.bEnc()))
        .add("r_mag", new HostTensor(new long[] {F}, rMag))
        .add("b_mag", new HostTensor(new long[] {F}, bMag))
        .add("W_dec", new HostTensor(new long[] {F, D}, w.wDec()))
        .add("b_dec", new HostTensor(new long[] {D}, w.bDec()))
        .write(dir.resolve("sae_weights.safetensors"));
    Fixtures.writeJson(dir.resolve("cfg.json"), Fixtures.saeLensV6("gated", ""));
    float[] x = Fixtures.inputs(N, D, 30f);
    double[][] expected = new double[N][F];
    for (int t = 0; t < N; t++) {
      double[] in = new double[D];
      for (int i = 0; i < D; i++) {
        in[i] = x[t * D + i] - w.bDec()[i];
      }
      double[] gate = pre(in, w, w.bEnc());
      for (int f = 0; f < F; f++) {
        double mag = bMag[f];
        for (int i = 0; i < D; i++) {
          mag += in[i] * w.wEnc()[i * F + f] * Math.exp(rMag[f]);
        }
        expected[t][f] = gate[f] > 0 ? Math.max(mag, 0) : 0;
      }
    }
    assertCodes(expected, encode(dir, SaeFormat.SAELENS, x, D));
  }

  @Test
  void aHeadIndexReadsThatHeadOfTheFlattenedHookZ() {
    Fixtures.Weights w = Fixtures.weights(D, F);
    int heads = 3;
    Path dir =
        Fixtures.writeSaeLens(
            tmp.resolve("head"),
            w,
            Fixtures.saeLensV6("standard", "")
                .replace(
                    "'blocks.1.hook_resid_post', 'hook_head_index': null",
                    "'blocks.1.attn.hook_z', 'hook_head_index': 2")
                .replace("'reshape_activations': 'none'", "'reshape_activations': 'hook_z'"),
            false);
    float[] z = Fixtures.inputs(N, D * heads, 30f);
    double[][] expected = new double[N][];
    for (int t = 0; t < N; t++) {
      double[] in = new double[D];
      for (int i = 0; i < D; i++) {
        in[i] = z[t * D * heads + 2 * D + i] - w.bDec()[i];
      }
      double[] p = pre(in, w, w.bEnc());
      for (int f = 0; f < F; f++) {
        p[f] = Math.max(p[f], 0);
      }
      expected[t] = p;
    }
    assertCodes(expected, encode(dir, SaeFormat.AUTO, z, D * heads));
  }

  @Test
  void llamaScopeFoldsItsNormalizationAndScalesItsThreshold() throws IOException {
    Fixtures.Weights w = Fixtures.weights(D, F);
    Path dir = Files.createDirectories(tmp.resolve("Llama3_1-8B-Base-L7R-8x"));
    float[] encoder = new float[D * F];
    float[] decoder = new float[D * F];
    for (int i = 0; i < D; i++) {
      for (int f = 0; f < F; f++) {
        encoder[f * D + i] = w.wEnc()[i * F + f];
        decoder[i * F + f] = w.wDec()[f * D + i];
      }
    }
    Files.createDirectories(dir.resolve("checkpoints"));
    new SafetensorsWriter()
        .add("encoder.weight", new HostTensor(new long[] {F, D}, encoder))
        .add("encoder.bias", new HostTensor(new long[] {F}, w.bEnc()))
        .add("decoder.weight", new HostTensor(new long[] {D, F}, decoder))
        .add("decoder.bias", new HostTensor(new long[] {D}, w.bDec()))
        .write(dir.resolve("checkpoints/final.safetensors"));
    double threshold = 0.05;
    double averageNorm = 3.5;
    Fixtures.writeJson(
        dir.resolve("hyperparams.json"),
        "{'d_model': "
            + D
            + ", 'd_sae': "
            + F
            + ", 'hook_point_in': 'blocks.7.hook_resid_post', 'hook_point_out': "
            + "'blocks.7.hook_resid_post', 'jump_relu_threshold': "
            + threshold
            + ", 'dataset_average_activation_norm': {'in': "
            + averageNorm
            + ", 'out': 3.6}}");
    SaeConfig c = Sae.readConfig(dir, SaeFormat.AUTO, Optional.empty());
    assertEquals(SaeFormat.LLAMASCOPE, c.format());
    assertEquals("blocks.7.hook_resid_post", c.hook().toString());
    float[] x = Fixtures.inputs(N, D, 30f);
    double scale = Math.sqrt(D) / averageNorm;
    double[][] expected = new double[N][];
    for (int t = 0; t < N; t++) {
      double[] in = new double[D];
      for (int i = 0; i < D; i++) {
        in[i] = x[t * D + i] * scale; // no b_dec on the input
      }
      double[] p = pre(in, w, w.bEnc());
      for (int f = 0; f < F; f++) {
        p[f] = p[f] > threshold * scale && p[f] > 0 ? p[f] : 0;
      }
      expected[t] = p;
    }
    assertCodes(expected, encode(dir, SaeFormat.AUTO, x, D));
  }

  @Test
  void pickledSaesAreRefusedWithAConversionHint() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("dictionary-learning"));
    Files.write(dir.resolve("ae.pt"), new byte[] {(byte) 0x80, 2, 'c'});
    String m =
        assertThrows(
                QdmException.class, () -> Sae.readConfig(dir, SaeFormat.AUTO, Optional.empty()))
            .getMessage();
    assertTrue(m.contains("ae.pt") && m.contains("pickle") && m.contains("safetensors"), m);
    Path file = Files.write(tmp.resolve("sae.bin"), new byte[] {1, 2, 3});
    m =
        assertThrows(
                QdmException.class, () -> Sae.readConfig(file, SaeFormat.AUTO, Optional.empty()))
            .getMessage();
    assertTrue(m.contains("sae.bin") && m.contains("pickle"), m);
  }
}
