package qdm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.io.HostTensor;
import qdm.io.SafetensorsFile;
import qdm.model.TorchEngine;

/**
 * SAE training on synthetic sparse activations: reconstruction improves, the written SAELens files
 * have the right keys and shapes and encode like a naive loop, and the input scale is folded back
 * exactly.
 */
class SaeTrainerTest {
  static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
  static final int D = 16;

  /** Rows that are sparse non-negative mixtures of 48 fixed directions, plus an offset. */
  static HostTensor sparseActivations(int rows, float scale) {
    Random r = new Random(11);
    float[][] dirs = new float[48][D];
    for (float[] dir : dirs) {
      for (int j = 0; j < D; j++) {
        dir[j] = (float) r.nextGaussian();
      }
    }
    float[] x = new float[rows * D];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < D; j++) {
        x[i * D + j] = 0.5f * scale;
      }
      for (int a = 0; a < 3; a++) {
        float[] dir = dirs[r.nextInt(dirs.length)];
        float c = 0.5f + 1.5f * r.nextFloat();
        for (int j = 0; j < D; j++) {
          x[i * D + j] += c * dir[j] * scale;
        }
      }
    }
    return new HostTensor(new long[] {rows, D}, x);
  }

  static SaeOptions options(String architecture, int steps) {
    return new SaeOptions(architecture, 48, 0.5, 6, steps, 256, 3e-3, 10, 20, 0, 2, 100);
  }

  @Test
  void reconstructionImprovesWithTraining() {
    HostTensor acts = sparseActivations(4096, 1f);
    SaeMetrics early =
        SaeMetrics.evaluate(SaeTrainer.train(acts, options("standard", 2), QUIET), acts, 1024);
    SaeMetrics late =
        SaeMetrics.evaluate(SaeTrainer.train(acts, options("standard", 250), QUIET), acts, 1024);
    assertTrue(
        late.fvu() < 0.5 * early.fvu() && late.fvu() < 0.25,
        "FVU " + early.fvu() + " -> " + late.fvu());
    assertTrue(late.l0() < early.l0(), "L0 " + early.l0() + " -> " + late.l0());
  }

  @Test
  void topkKeepsAtMostKFeatures() {
    HostTensor acts = sparseActivations(2048, 1f);
    TrainedSae sae = SaeTrainer.train(acts, options("topk", 30), QUIET);
    SaeMetrics m = SaeMetrics.evaluate(sae, acts, 1024);
    assertTrue(m.l0() <= 6.0 && m.l0() > 0, "L0 " + m.l0());
  }

  @Test
  void inputScaleIsFoldedIntoTheWeights() {
    // a power-of-two scale keeps the rescaled inputs, and so the whole training, bit-identical
    TrainedSae a = SaeTrainer.train(sparseActivations(1024, 1f), options("standard", 20), QUIET);
    TrainedSae b = SaeTrainer.train(sparseActivations(1024, 4f), options("standard", 20), QUIET);
    assertArrayEquals(a.wEnc().data(), scaled(b.wEnc(), 4f), 0f);
    assertArrayEquals(a.bEnc().data(), b.bEnc().data(), 0f);
    assertArrayEquals(scaled(a.wDec(), 4f), b.wDec().data(), 0f);
    assertArrayEquals(scaled(a.bDec(), 4f), b.bDec().data(), 0f);
  }

  private static float[] scaled(HostTensor t, float s) {
    float[] out = t.data().clone();
    for (int i = 0; i < out.length; i++) {
      out[i] *= s;
    }
    return out;
  }

  @Test
  void writesSaeLensFilesThatEncodeLikeANaiveLoop(@TempDir Path dir) throws Exception {
    HostTensor acts = sparseActivations(1024, 1f);
    TrainedSae sae = SaeTrainer.train(acts, options("standard", 20), QUIET);
    SaeLensWriter.write(
        dir,
        sae,
        new SaeLensWriter.Meta("tiny", "blocks.1.hook_resid_post", 1, 128, false, "synthetic"));
    JsonObject cfg =
        JsonParser.parseString(Files.readString(dir.resolve("cfg.json"))).getAsJsonObject();
    assertEquals("standard", cfg.get("architecture").getAsString());
    assertEquals(D, cfg.get("d_in").getAsInt());
    assertEquals(48, cfg.get("d_sae").getAsInt());
    assertEquals("blocks.1.hook_resid_post", cfg.get("hook_name").getAsString());
    assertEquals("none", cfg.get("normalize_activations").getAsString());
    assertTrue(cfg.get("apply_b_dec_to_input").getAsBoolean());

    float[] wEnc;
    float[] bEnc;
    float[] bDec;
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("sae_weights.safetensors"))) {
      assertEquals(List.of("W_enc", "b_enc", "W_dec", "b_dec"), List.copyOf(f.names()));
      assertArrayEquals(new long[] {D, 48}, f.info("W_enc").shape());
      assertArrayEquals(new long[] {48}, f.info("b_enc").shape());
      assertArrayEquals(new long[] {48, D}, f.info("W_dec").shape());
      assertArrayEquals(new long[] {D}, f.info("b_dec").shape());
      wEnc = f.readFloats("W_enc");
      bEnc = f.readFloats("b_enc");
      bDec = f.readFloats("b_dec");
    }
    float[] x = acts.data();
    float[] naive = new float[8 * 48];
    for (int row = 0; row < 8; row++) {
      for (int i = 0; i < 48; i++) {
        double pre = bEnc[i];
        for (int j = 0; j < D; j++) {
          pre += (x[row * D + j] - bDec[j]) * wEnc[j * 48 + i];
        }
        naive[row * 48 + i] = (float) Math.max(0, pre);
      }
    }
    try (NDManager m = TorchEngine.newManager(Device.cpu())) {
      float[] first = java.util.Arrays.copyOf(x, 8 * D);
      float[] encoded = sae.encode(m.create(first, new Shape(8, D)), sae.arrays(m)).toFloatArray();
      assertArrayEquals(naive, encoded, 1e-4f);
    }
  }
}
