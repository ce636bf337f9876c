package qdm.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The finiteness scan against a naive oracle ({@link Float#isFinite} element by element), on files
 * of every float dtype with tensors larger than one scan block, and on a sharded checkpoint, whose
 * message must name the shard that holds the tensor.
 */
class FiniteTensorsTest {
  @TempDir Path tmp;

  @Test
  void theFirstNonFiniteElementOfABlockMatchesANaiveScan() {
    Random r = new Random(3);
    for (int trial = 0; trial < 200; trial++) {
      float[] x = new float[1 + r.nextInt(300)];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) r.nextGaussian() * (r.nextBoolean() ? 1e30f : 1f);
      }
      int bad = r.nextInt(3);
      for (int k = 0; k < bad; k++) {
        x[r.nextInt(x.length)] =
            switch (r.nextInt(3)) {
              case 0 -> Float.NaN;
              case 1 -> Float.POSITIVE_INFINITY;
              default -> Float.NEGATIVE_INFINITY;
            };
      }
      int naive = -1;
      for (int i = 0; i < x.length; i++) {
        if (!Float.isFinite(x[i])) {
          naive = i;
          break;
        }
      }
      assertEquals(naive, FiniteTensors.firstNonFinite(x, 0, x.length));
    }
    // the largest finite values are finite; their difference with themselves is 0
    assertEquals(
        -1,
        FiniteTensors.firstNonFinite(
            new float[] {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, 0f, -0f}, 0, 5));
  }

  @Test
  void aNonFiniteValueInALargeTensorIsFoundAtItsIndexInEveryDtype() throws IOException {
    int rows = 1100;
    int cols = 1000; // 1.1 M elements: more than one block of the scan
    for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) {
      float[] w = new float[rows * cols];
      Random r = new Random(7);
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) r.nextGaussian();
      }
      Path clean = tmp.resolve("clean-" + dtype + ".safetensors");
      new SafetensorsWriter()
          .add("small", new HostTensor(new long[] {3}, new float[3]))
          .add("big", new HostTensor(new long[] {rows, cols}, w))
          .write(clean, dtype);
      try (SafetensorsFile st = SafetensorsFile.open(clean)) {
        FiniteTensors.requireAll(st); // no error
      }
      int at = 1050 * cols + 123;
      w[at] = dtype == DType.BF16 ? Float.NEGATIVE_INFINITY : Float.NaN;
      Path bad = tmp.resolve("bad-" + dtype + ".safetensors");
      new SafetensorsWriter()
          .add("small", new HostTensor(new long[] {3}, new float[3]))
          .add("big", new HostTensor(new long[] {rows, cols}, w))
          .write(bad, dtype);
      try (SafetensorsFile st = SafetensorsFile.open(bad)) {
        String m =
            assertThrows(TensorFormatException.class, () -> FiniteTensors.requireAll(st))
                .getMessage();
        assertTrue(
            m.startsWith(
                bad
                    + ": tensor 'big' [1100, 1000] holds "
                    + (dtype == DType.BF16 ? "-Inf" : "NaN")
                    + " at index [1050, 123] (element "
                    + at
                    + " of "
                    + rows * cols
                    + ")"),
            dtype + ": " + m);
      }
    }
  }

  @Test
  void aShardedCheckpointNamesTheShard() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("sharded"));
    new SafetensorsWriter()
        .add("a", new HostTensor(new long[] {2, 2}, new float[4]))
        .write(dir.resolve("model-00001-of-00002.safetensors"));
    new SafetensorsWriter()
        .add(
            "b",
            new HostTensor(new long[] {2, 3}, new float[] {0, 0, 0, 0, Float.POSITIVE_INFINITY, 0}))
        .write(dir.resolve("model-00002-of-00002.safetensors"));
    JsonObject map = new JsonObject();
    map.addProperty("a", "model-00001-of-00002.safetensors");
    map.addProperty("b", "model-00002-of-00002.safetensors");
    JsonObject index = new JsonObject();
    index.add("weight_map", map);
    Files.writeString(dir.resolve("model.safetensors.index.json"), index.toString());
    try (ShardedSafetensors st =
        ShardedSafetensors.open(dir.resolve("model.safetensors.index.json"))) {
      String m =
          assertThrows(TensorFormatException.class, () -> FiniteTensors.requireAll(st))
              .getMessage();
      assertTrue(
          m.contains(
              "model-00002-of-00002.safetensors: tensor 'b' [2, 3] holds +Inf at "
                  + "index [1, 1]"),
          m);
    }
  }
}
