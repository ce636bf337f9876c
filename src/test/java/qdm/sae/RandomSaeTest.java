package qdm.sae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import qdm.model.TorchEngine;

/** The benchmark's random SAEs: the normal quantile, and the sparsity it is meant to give. */
class RandomSaeTest {

  @Test
  void normalQuantilesMatchTables() {
    assertEquals(0.0, RandomSae.upperQuantile(0.5), 1e-6);
    assertEquals(1.959964, RandomSae.upperQuantile(0.025), 1e-5);
    assertEquals(3.090232, RandomSae.upperQuantile(0.001), 1e-5);
    assertEquals(-1.644854, RandomSae.upperQuantile(0.95), 1e-5);
  }

  @Test
  void firesAboutTheTargetNumberOfFeatures() {
    try (NDManager root = TorchEngine.newManager(Device.cpu())) {
      for (String arch : new String[] {"standard", "jumprelu", "topk"}) {
        try (Sae sae = RandomSae.create(arch, 512, 4096, 32, root, 7);
            NDManager batch = root.newSubManager()) {
          SparseCodes codes =
              sae.encodeSparse(batch.randomNormal(0f, 1f, new Shape(256, 512), DataType.FLOAT32));
          if (arch.equals("topk")) {
            assertEquals(32.0, codes.l0(), 1e-9, arch);
          } else {
            assertTrue(Math.abs(codes.l0() - 32) < 8, arch + " L0 " + codes.l0());
          }
        }
      }
    }
  }
}
