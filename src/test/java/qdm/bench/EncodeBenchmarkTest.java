package qdm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.QdmException;
import qdm.condition.Condition;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.model.TorchEngine;

/** The encode benchmark's config and SAE calibration (the timed run itself is not a test). */
class EncodeBenchmarkTest {

  @Test
  void configRunsTheRequestedConditionsOverTheBundledCorpusWithoutNullRun(@TempDir Path dir) {
    EncodeBenchmark.Options o =
        new EncodeBenchmark.Options(
            4096,
            512,
            8,
            32768,
            60,
            3,
            List.of("rtn8", "prune30"),
            Path.of("assets/demo/brown/heldout.txt"),
            Path.of("assets/demo/neox-brown/model/tokenizer.json"),
            dir,
            "local[2]");
    AuditConfig c =
        AuditConfigs.parse(
            EncodeBenchmark.hocon(o, dir.resolve("m"), dir.resolve("s")), List.of(), "test");
    assertEquals(
        List.of("fp", "rtn8", "prune30"), c.conditions().stream().map(Condition::name).toList());
    assertFalse(c.analysis().nullRun());
    assertFalse(c.windows().sliding().enabled());
    assertEquals(4096, c.corpus().maxTokens());
    assertEquals(512, c.windows().chunkLength());
    assertEquals("local[2]", c.spark().master());
    assertTrue(c.conditions().get(2).spec().contains("0.3"), c.conditions().get(2).spec());
  }

  @Test
  void badConditionNamesAreRefused(@TempDir Path dir) {
    for (String bad : List.of("rtn9", "rtn", "prune0", "prune100", "fp16")) {
      QdmException e =
          assertThrows(
              QdmException.class,
              () ->
                  new EncodeBenchmark.Options(
                      4096,
                      512,
                      8,
                      32768,
                      60,
                      3,
                      List.of(bad),
                      Path.of("assets/demo/brown/heldout.txt"),
                      Path.of("assets/demo/neox-brown/model/tokenizer.json"),
                      dir,
                      "local[2]"));
      assertTrue(e.getMessage().contains(bad), e.getMessage());
    }
  }

  @Test
  void calibratedBiasesFireEachFeatureOnTheRequestedFractionOfRows() {
    try (NDManager m = TorchEngine.newManager(Device.cpu())) {
      m.getEngine().setRandomSeed(3);
      // columns of different scales and offsets: the bias must adapt to each
      NDArray pre =
          m.randomNormal(0f, 1f, new Shape(4000, 50), DataType.FLOAT32)
              .mul(m.arange(1f, 51f))
              .add(m.arange(0f, 50f));
      float[] bias = EncodeBenchmark.firingBias(pre, 0.01);
      NDArray fires =
          pre.add(m.create(bias)).gt(0f).toType(DataType.FLOAT32, false).sum(new int[] {0});
      for (float count : fires.toFloatArray()) {
        assertEquals(40, count, 1); // 1% of 4000 rows, +- one tie at the cut
      }
    }
  }
}
