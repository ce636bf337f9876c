package qdm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import qdm.QdmException;
import qdm.testing.Reference;

/**
 * The npz reader against archives written by NumPy ({@code src/test/resources/sae/npz}, made by
 * {@code make_fixtures.py}, values from a formula recomputed here) and by java.util.zip.
 */
class NpzFileTest {
  @TempDir Path tmp;

  static Path npz(String name) {
    return Reference.dir().resolveSibling("sae").resolve("npz").resolve(name);
  }

  /** make_fixtures.py's fixture_value. */
  static float value(long i, int seed) {
    long h = (i * 2654435761L + seed * 97531L) & 0xFFFFFFFFL;
    h ^= h >>> 15;
    return (float) (((h % 2001) - 1000) / 4096.0);
  }

  static float[] values(int n, int seed) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = value(i, seed);
    }
    return v;
  }

  @ParameterizedTest
  @ValueSource(strings = {"dtypes.npz", "dtypes-compressed.npz"})
  void readsEveryTypeNumPyWrites(String file) {
    try (NpzFile f = NpzFile.open(npz(file))) {
      assertEquals(
          Set.of("f32", "f64", "f16", "i64", "i32", "u8", "bool", "scalar", "empty"), f.names());
      assertEquals(DType.F32, f.info("f32").dtype());
      assertArrayEquals(new long[] {3, 4}, f.info("f32").shape());
      assertArrayEquals(values(12, 11), f.readFloats("f32"));
      assertEquals(DType.F64, f.info("f64").dtype());
      assertArrayEquals(values(6, 12), f.readFloats("f64"));
      assertEquals(DType.F16, f.info("f16").dtype());
      assertArrayEquals(values(5, 13), f.readFloats("f16"));
      assertArrayEquals(new long[] {-3, -2, -1, 0, 1, 2}, f.readLongs("i64"));
      assertArrayEquals(new long[] {2, 3}, f.info("i64").shape());
      assertArrayEquals(new long[] {0, 1, 2, 3}, f.readLongs("i32"));
      assertArrayEquals(new long[] {0, 7, 255}, f.readLongs("u8"));
      assertArrayEquals(new long[] {1, 0, 1}, f.readLongs("bool"));
      assertArrayEquals(new long[0], f.info("scalar").shape());
      assertArrayEquals(new float[] {0.5f}, f.readFloats("scalar"));
      assertArrayEquals(new long[] {0, 4}, f.info("empty").shape());
      assertEquals(0, f.readFloats("empty").length);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"dtypes.npz", "dtypes-compressed.npz"})
  void readsAnyRangeInAnyOrder(String file) {
    float[] all = values(12, 11);
    try (NpzFile f = NpzFile.open(npz(file))) {
      float[] dst = new float[6];
      f.readFloats("f32", 5, dst, 1, 4); // forward
      assertArrayEquals(new float[] {0, all[5], all[6], all[7], all[8], 0}, dst);
      f.readFloats("f32", 9, dst, 0, 3); // continues where the last read stopped
      assertArrayEquals(Arrays.copyOfRange(all, 9, 12), Arrays.copyOf(dst, 3));
      f.readFloats("f32", 0, dst, 0, 2); // backwards: starts over
      assertArrayEquals(Arrays.copyOfRange(all, 0, 2), Arrays.copyOf(dst, 2));
      f.readFloats("f64", 1, dst, 0, 2); // another member in between
      f.readFloats("f32", 2, dst, 2, 1);
      assertEquals(all[2], dst[2]);
      assertThrows(IndexOutOfBoundsException.class, () -> f.readFloats("f32", 10, dst, 0, 3));
    }
  }

  @Test
  void readsNpyFormatVersions1To3() {
    try (NpzFile f = NpzFile.open(npz("versions.npz"))) {
      for (String v : new String[] {"v1", "v2", "v3"}) {
        assertArrayEquals(values(4, 31), f.readFloats(v), v);
      }
    }
  }

  @Test
  void readsZip64Records() {
    try (NpzFile f = NpzFile.open(npz("zip64.npz"))) {
      assertArrayEquals(values(15, 41), f.readFloats("a"));
      assertArrayEquals(values(15, 42), f.readFloats("b"));
      assertArrayEquals(new long[] {3, 5}, f.info("b").shape());
    }
  }

  @Test
  void readsStoredAndDeflatedMembersOfOneArchive() throws IOException {
    Path file = tmp.resolve("mixed.npz");
    float[] a = values(300, 61);
    float[] b = values(7, 62);
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
      stored(z, "a.npy", npy("<f4", "(10, 30)", a));
      z.putNextEntry(new ZipEntry("b.npy")); // deflated by default
      z.write(npy("<f4", "(7,)", b));
      z.closeEntry();
      stored(z, "notes.txt", "not an array".getBytes(StandardCharsets.UTF_8));
    }
    try (NpzFile f = NpzFile.open(file)) {
      assertEquals(Set.of("a", "b"), f.names());
      assertArrayEquals(a, f.readFloats("a"));
      assertArrayEquals(b, f.readFloats("b"));
    }
  }

  @Test
  void rejectsFortranOrder() {
    assertFails(npz("fortran.npz"), "Fortran");
  }

  @Test
  void rejectsBigEndian() {
    assertFails(npz("bigendian.npz"), "'>f4'", "big-endian");
  }

  @Test
  void rejectsUnsupportedElementTypes() {
    assertFails(npz("complex.npz"), "'<c8'", "supported: ");
  }

  @Test
  void rejectsOtherCompressionMethods() {
    assertFails(npz("bzip2.npz"), "tensor 'a'", "zip method 12");
  }

  @Test
  void rejectsFilesThatAreNotZips() throws IOException {
    Path file = tmp.resolve("noise.npz");
    byte[] noise = new byte[4096];
    new java.util.Random(7).nextBytes(noise);
    Files.write(file, noise);
    assertFails(file, "end-of-central-directory");
    Path tiny = tmp.resolve("tiny.npz");
    Files.write(tiny, new byte[] {'P', 'K'});
    assertFails(tiny, "too short");
  }

  @Test
  void rejectsTruncatedArchives() throws IOException {
    Path whole =
        Reference.dir().resolveSibling("sae").resolve("gemmascope/layer_1/width_256/params.npz");
    byte[] bytes = Files.readAllBytes(whole);
    Path cut = tmp.resolve("cut.npz");
    Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
    assertFails(cut, "cut.npz", "end-of-central-directory");
  }

  @Test
  void rejectsMembersWhoseDataDisagreesWithTheirShape() throws IOException {
    Path file = tmp.resolve("short.npz");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
      stored(z, "w.npy", npy("<f4", "(4, 4)", values(15, 1))); // one float short
    }
    assertFails(file, "tensor 'w'", "needs 64");
  }

  @Test
  void rejectsMembersThatAreNotNpy() throws IOException {
    Path file = tmp.resolve("garbage.npz");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
      stored(z, "w.npy", "this is not an array at all".getBytes(StandardCharsets.UTF_8));
    }
    assertFails(file, "tensor 'w'", "magic");
  }

  @Test
  void rejectsCorruptDeflatedData() throws IOException {
    Path file = tmp.resolve("corrupt.npz");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
      z.putNextEntry(new ZipEntry("w.npy"));
      z.write(npy("<f4", "(400,)", new float[400])); // zeros deflate to a few bytes
      z.closeEntry();
    }
    byte[] bytes = Files.readAllBytes(file);
    int data = 30 + "w.npy".length();
    for (int i = data + 40; i < data + 44; i++) {
      bytes[i] ^= (byte) 0x5A;
    }
    Files.write(file, bytes);
    QdmException e =
        assertThrows(
            QdmException.class,
            () -> {
              try (NpzFile f = NpzFile.open(file)) {
                f.readFloats("w");
              }
            });
    assertTrue(
        e.getMessage().contains("corrupt.npz") && e.getMessage().contains("'w'"), e.getMessage());
  }

  @Test
  void namesTheFileAndArrayInReadErrors() {
    try (NpzFile f = NpzFile.open(npz("dtypes.npz"))) {
      assertMessage(
          assertThrows(QdmException.class, () -> f.info("W_enc")),
          "dtypes.npz",
          "'W_enc'",
          "not in the archive");
      assertMessage(
          assertThrows(QdmException.class, () -> f.readFloats("i64")),
          "'i64'",
          "expected a floating point type");
      assertMessage(
          assertThrows(QdmException.class, () -> f.readLongs("f32")),
          "'f32'",
          "expected an integer type");
    }
    assertFails(tmp.resolve("missing.npz"), "missing.npz", "no such file");
  }

  static void assertFails(Path file, String... words) {
    QdmException e = assertThrows(QdmException.class, () -> NpzFile.open(file).close());
    assertMessage(e, file.getFileName().toString());
    assertMessage(e, words);
  }

  static void assertMessage(Exception e, String... words) {
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "'" + w + "' not in: " + e.getMessage());
    }
  }

  /** A .npy (format 1.0) of float32 values with the given descr and shape text. */
  static byte[] npy(String descr, String shape, float[] data) {
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int total = 10 + dict.length() + 1;
    int padded = (total + 63) / 64 * 64;
    StringBuilder header = new StringBuilder(dict);
    while (10 + header.length() + 1 < padded) {
      header.append(' ');
    }
    header.append('\n');
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x93);
    out.writeBytes("NUMPY".getBytes(StandardCharsets.US_ASCII));
    out.write(1);
    out.write(0);
    out.write(header.length() & 0xFF);
    out.write(header.length() >> 8);
    out.writeBytes(header.toString().getBytes(StandardCharsets.US_ASCII));
    ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : data) {
      b.putFloat(v);
    }
    out.writeBytes(b.array());
    return out.toByteArray();
  }

  static void stored(ZipOutputStream z, String name, byte[] bytes) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(bytes.length);
    CRC32 crc = new CRC32();
    crc.update(bytes);
    e.setCrc(crc.getValue());
    z.putNextEntry(e);
    ((OutputStream) z).write(bytes);
    z.closeEntry();
  }
}
