package qdm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The large-file path without large memory: a sparse file of over 3 GiB whose header places one
 * tensor across the 2 GiB mark (and larger than one mapped piece) and one beyond it. Known values
 * are written only where the test reads; everything else is a hole that reads as zeros.
 */
class LargeFileTest {
  private static final long GIB = 1L << 30;

  /** Data offset of the spanning tensor: 128 MiB before the 2 GiB mark. */
  private static final long SPAN_BEGIN = 2 * GIB - (1L << 27);

  /** Elements of the spanning tensor: more bytes than one mapped piece. */
  private static final long SPAN_NUMEL = SafetensorsFile.MAP_PIECE / 4 + 1000;

  /** Element of the spanning tensor that starts exactly at data offset 2 GiB. */
  private static final long AT_2GIB = (2 * GIB - SPAN_BEGIN) / 4;

  private static final long BEYOND_BEGIN = 3 * GIB;
  private static final int BEYOND_NUMEL = 1000;

  @TempDir static Path tmp;
  static Path file;
  static long dataStart;

  /** The value stored at element {@code i} of the spanning tensor, where one is written. */
  static float spanValue(long i) {
    return (float) (i % 100_003) * 0.25f - 7f;
  }

  /** bfloat16-exact values for the tensor beyond 3 GiB. */
  static float beyondValue(int i) {
    return ((i % 200) - 100) * 0.25f;
  }

  @BeforeAll
  static void writeSparseFile() throws IOException {
    JsonObject header = new JsonObject();
    header.add("head", entry("F32", new long[] {4}, 0, 16));
    header.add(
        "spanning", entry("F32", new long[] {SPAN_NUMEL}, SPAN_BEGIN, SPAN_BEGIN + 4 * SPAN_NUMEL));
    header.add(
        "beyond",
        entry(
            "BF16",
            new long[] {10, BEYOND_NUMEL / 10},
            BEYOND_BEGIN,
            BEYOND_BEGIN + 2L * BEYOND_NUMEL));
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    dataStart = 8 + padded;
    file = tmp.resolve("sparse.safetensors");
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(dataStart + BEYOND_BEGIN + 2L * BEYOND_NUMEL); // holes everywhere
      ByteBuffer start = ByteBuffer.allocate((int) dataStart).order(ByteOrder.LITTLE_ENDIAN);
      start.putLong(padded).put(json);
      while (start.hasRemaining()) {
        start.put((byte) ' ');
      }
      raf.write(start.array());
      writeSpan(raf, 0, 16);
      writeSpan(raf, AT_2GIB - 300, 600);
      writeSpan(raf, SPAN_NUMEL - 16, 16);
      ByteBuffer beyond = ByteBuffer.allocate(2 * BEYOND_NUMEL).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < BEYOND_NUMEL; i++) {
        beyond.putShort((short) (Float.floatToIntBits(beyondValue(i)) >>> 16));
      }
      raf.seek(dataStart + BEYOND_BEGIN);
      raf.write(beyond.array());
    }
  }

  private static void writeSpan(RandomAccessFile raf, long from, int count) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      b.putFloat(spanValue(from + i));
    }
    raf.seek(dataStart + SPAN_BEGIN + 4 * from);
    raf.write(b.array());
  }

  private static JsonObject entry(String dtype, long[] shape, long begin, long end) {
    JsonObject o = new JsonObject();
    o.addProperty("dtype", dtype);
    JsonArray s = new JsonArray();
    for (long d : shape) {
      s.add(d);
    }
    o.add("shape", s);
    JsonArray offsets = new JsonArray();
    offsets.add(begin);
    offsets.add(end);
    o.add("data_offsets", offsets);
    return o;
  }

  private static float[] expectedSpan(long from, int count) {
    float[] v = new float[count];
    for (int i = 0; i < count; i++) {
      v[i] = spanValue(from + i);
    }
    return v;
  }

  private static float[] read(SafetensorsFile f, String name, long from, int count) {
    float[] out = new float[count];
    f.readFloats(name, from, out, 0, count);
    return out;
  }

  @Test
  void headerPlacesTensorsPastTwoGib() throws IOException {
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      TensorInfo span = f.info("spanning");
      assertTrue(span.begin() < 2 * GIB && span.end() > 2 * GIB, "spans the 2 GiB mark");
      assertTrue(span.byteLength() > SafetensorsFile.MAP_PIECE, "larger than a mapped piece");
      assertEquals(3 * GIB, f.info("beyond").begin());
      assertTrue(java.nio.file.Files.size(file) > 3 * GIB);
    }
  }

  @Test
  void readsAcrossTheTwoGibMark() {
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      assertArrayEquals(expectedSpan(0, 16), read(f, "spanning", 0, 16));
      assertArrayEquals(expectedSpan(AT_2GIB - 300, 600), read(f, "spanning", AT_2GIB - 300, 600));
      assertArrayEquals(
          expectedSpan(SPAN_NUMEL - 16, 16), read(f, "spanning", SPAN_NUMEL - 16, 16));
      // a hole reads as zeros
      assertArrayEquals(new float[8], read(f, "spanning", 1000, 8));
    }
  }

  @Test
  void readsBeyondThreeGibWideningBf16() {
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      float[] all = f.readFloats("beyond");
      for (int i = 0; i < BEYOND_NUMEL; i++) {
        assertEquals(beyondValue(i), all[i], 0f, "beyond[" + i + "]");
      }
    }
  }

  @Test
  void readsStitchedFromManyMappedPieces() {
    // the same reads through 64-byte pieces: one read crosses many piece boundaries, one of
    // them the 2 GiB mark
    try (SafetensorsFile f = SafetensorsFile.open(file, 64)) {
      assertArrayEquals(expectedSpan(AT_2GIB - 300, 600), read(f, "spanning", AT_2GIB - 300, 600));
      float[] all = f.readFloats("beyond");
      assertEquals(beyondValue(999), all[999], 0f);
      assertEquals(beyondValue(0), all[0], 0f);
    }
  }
}
