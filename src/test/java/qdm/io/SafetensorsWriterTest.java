package qdm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.testing.HalfFloats;

/**
 * Writer and reader round trips. F32 must come back bit for bit; F16 and BF16 must come back as the
 * nearest representable value (ties to even) as the independent {@link HalfFloats} oracle finds it.
 */
class SafetensorsWriterTest {
  @TempDir Path tmp;

  /** Random values over many magnitudes, plus the special ones. */
  static float[] sample(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(14) - 9));
    }
    float[] special = {
      0f,
      -0f,
      1f,
      -1f,
      65504f,
      65520f,
      70000f,
      1e-8f,
      6e-8f,
      Float.MIN_VALUE,
      Float.MAX_VALUE,
      -Float.MAX_VALUE,
      Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY,
      1f + 0x1p-11f,
      1f + 0x1p-8f,
      3.0e38f
    };
    System.arraycopy(special, 0, v, 0, Math.min(n, special.length));
    return v;
  }

  private Path write(DType dtype, HostTensor a, HostTensor b) {
    Path p = tmp.resolve(dtype + ".safetensors");
    new SafetensorsWriter().add("a", a).add("b.weight", b).metadata("format", "pt").write(p, dtype);
    return p;
  }

  @Test
  void f32RoundTripsBitForBit() {
    HostTensor a = new HostTensor(new long[] {50, 40}, sample(2000, 1));
    HostTensor b = new HostTensor(new long[] {7}, sample(7, 2));
    Path p = write(DType.F32, a, b);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertEquals(DType.F32, f.info("a").dtype());
      assertArrayEquals(a.shape(), f.info("a").shape());
      assertArrayEquals(a.data(), f.readFloats("a"));
      assertArrayEquals(b.data(), f.readFloats("b.weight"));
      assertEquals("pt", f.metadata().get("format"));
    }
  }

  @Test
  void f16AndBf16RoundToNearestEven() {
    for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
      HostTensor a = new HostTensor(new long[] {100, 30}, sample(3000, 3));
      HostTensor b = new HostTensor(new long[] {2, 2, 2}, sample(8, 4));
      Path p = write(dtype, a, b);
      try (SafetensorsFile f = SafetensorsFile.open(p)) {
        assertEquals(dtype, f.info("a").dtype());
        assertEquals(6000, f.info("a").byteLength());
        for (String name : new String[] {"a", "b.weight"}) {
          float[] original = name.equals("a") ? a.data() : b.data();
          float[] read = f.readFloats(name);
          for (int i = 0; i < original.length; i++) {
            float expected =
                dtype == DType.F16
                    ? HalfFloats.roundF16(original[i])
                    : HalfFloats.roundBf16(original[i]);
            assertEquals(
                expected, read[i], 0f, dtype + " " + name + "[" + i + "] = " + original[i]);
          }
        }
        // reading a window gives the same values as the whole tensor
        float[] window = new float[10];
        f.readFloats("a", 1234, window, 0, 10);
        assertArrayEquals(Arrays.copyOfRange(f.readFloats("a"), 1234, 1244), window);
      }
    }
  }

  @Test
  void layoutIsCanonical() throws IOException {
    HostTensor a = new HostTensor(new long[] {3}, new float[] {1, 2, 3});
    HostTensor b = new HostTensor(new long[] {1, 1}, new float[] {4});
    Path p = write(DType.F32, a, b);
    byte[] bytes = Files.readAllBytes(p);
    long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertEquals(0, (8 + headerLength) % 8, "data starts 8-byte aligned");
    assertEquals(8 + headerLength + 16, bytes.length, "no bytes after the data");
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertEquals(0, f.info("a").begin());
      assertEquals(12, f.info("b.weight").begin(), "tensors are contiguous, in insertion order");
    }
    // written atomically: no temporary file is left beside the target
    try (var files = Files.list(tmp)) {
      assertFalse(files.anyMatch(x -> x.getFileName().toString().endsWith(".tmp")));
    }
  }

  @Test
  void scalarsAndEmptyTensors() {
    Path p = tmp.resolve("edge.safetensors");
    new SafetensorsWriter()
        .add("scalar", new HostTensor(new long[] {}, new float[] {2.5f}))
        .add("empty", new HostTensor(new long[] {0, 4}, new float[0]))
        .write(p);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertArrayEquals(new float[] {2.5f}, f.readFloats("scalar"));
      assertEquals(0, f.readFloats("empty").length);
      assertTrue(f.info("scalar").shape().length == 0);
    }
  }
}
