package qdm.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a safetensors file can be corrupt fails at open with a {@link TensorFormatException}
 * whose message names the file (and the tensor, where one is at fault). The files are built byte by
 * byte here, so the oracle is the format itself: 8-byte little-endian header length, JSON header,
 * data.
 */
class SafetensorsCorruptionTest {
  @TempDir Path tmp;

  /** A file of header length {@code declared}, then {@code header} bytes, then {@code data}. */
  private Path file(String name, long declared, String header, int dataBytes) throws IOException {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(declared).put(json);
    Path p = tmp.resolve(name);
    Files.write(p, b.array());
    return p;
  }

  /** A well-formed header length for {@code header}. */
  private Path file(String name, String header, int dataBytes) throws IOException {
    return file(name, header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
  }

  private static TensorFormatException fails(Path p, String... mentions) {
    TensorFormatException e =
        assertThrows(TensorFormatException.class, () -> SafetensorsFile.open(p).close());
    assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
    for (String m : mentions) {
      assertTrue(e.getMessage().contains(m), "mentions '" + m + "': " + e.getMessage());
    }
    return e;
  }

  private static String entry(String name, String dtype, String shape, long begin, long end) {
    return "\""
        + name
        + "\":{\"dtype\":\""
        + dtype
        + "\",\"shape\":"
        + shape
        + ",\"data_offsets\":["
        + begin
        + ","
        + end
        + "]}";
  }

  @Test
  void validFileOpens() throws IOException {
    // the control: the same builder with consistent values opens and reads back
    Path p = file("ok.safetensors", "{" + entry("w", "F32", "[2]", 0, 8) + "}", 8);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertEquals(1, f.names().size());
      assertEquals(0f, f.readFloats("w")[1]);
    }
  }

  @Test
  void truncatedBeforeTheHeaderLength() throws IOException {
    Path p = tmp.resolve("short.safetensors");
    Files.write(p, new byte[] {1, 0, 0, 0, 0});
    fails(p, "truncated", "5 bytes");
  }

  @Test
  void emptyFile() throws IOException {
    Path p = tmp.resolve("empty.safetensors");
    Files.write(p, new byte[0]);
    fails(p, "truncated");
  }

  @Test
  void headerLengthPastTheEndOfTheFile() throws IOException {
    String header = "{" + entry("w", "F32", "[2]", 0, 8) + "}";
    fails(file("past.safetensors", 10_000, header, 8), "header length 10000", "past the end");
  }

  @Test
  void headerLengthOver100Mb() throws IOException {
    fails(file("huge.safetensors", 100_000_001L, "{}", 0), "100000001");
  }

  @Test
  void negativeHeaderLength() throws IOException {
    // 0xFFFF...FF read as unsigned is 2^64 - 1: far over the limit, never a negative allocation
    fails(file("negative.safetensors", -1L, "{}", 0), "18446744073709551615");
  }

  @Test
  void invalidJson() throws IOException {
    String cut = "{" + entry("w", "F32", "[2]", 0, 8); // closing brace missing
    fails(file("cut.safetensors", cut, 8), "not valid JSON");
  }

  @Test
  void jsonThatOnlyALenientParserAccepts() throws IOException {
    String unquoted = "{w:{dtype:F32,shape:[2],data_offsets:[0,8]}}";
    fails(file("lenient.safetensors", unquoted, 8), "not valid JSON");
  }

  @Test
  void headerThatIsNotAnObject() throws IOException {
    fails(file("array.safetensors", "[1, 2]", 0), "not a JSON object");
  }

  @Test
  void unknownDtype() throws IOException {
    Path p = file("dtype.safetensors", "{" + entry("w", "F7", "[2]", 0, 8) + "}", 8);
    fails(p, "'w'", "unknown dtype 'F7'");
  }

  @Test
  void offsetsPastTheData() throws IOException {
    Path p = file("range.safetensors", "{" + entry("w", "F32", "[4]", 0, 16) + "}", 8);
    fails(p, "'w'", "[0, 16]", "8 bytes");
  }

  @Test
  void offsetsBackwards() throws IOException {
    Path p = file("backwards.safetensors", "{" + entry("w", "F32", "[0]", 8, 4) + "}", 8);
    fails(p, "'w'", "[8, 4]");
  }

  @Test
  void negativeOffset() throws IOException {
    Path p = file("neg.safetensors", "{" + entry("w", "F32", "[1]", -4, 0) + "}", 8);
    fails(p, "'w'", "negative");
  }

  @Test
  void overlappingTensors() throws IOException {
    String header =
        "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}";
    fails(file("overlap.safetensors", header, 12), "'b'", "overlaps tensor 'a'");
  }

  @Test
  void shapeTimesDtypeDisagreesWithTheByteLength() throws IOException {
    Path p = file("shape.safetensors", "{" + entry("w", "F32", "[3]", 0, 8) + "}", 8);
    fails(p, "'w'", "8 bytes", "[3] x F32 needs 12");
  }

  @Test
  void halfPrecisionShapeMismatch() throws IOException {
    Path p = file("bf16.safetensors", "{" + entry("w", "BF16", "[2,2]", 0, 4) + "}", 8);
    fails(p, "'w'", "[2, 2] x BF16 needs 8");
  }

  @Test
  void missingFieldsNameTheTensor() throws IOException {
    fails(
        file("nodtype.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
        "'w'",
        "no dtype");
    fails(
        file("noshape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4),
        "'w'",
        "no shape");
    fails(
        file("nooffsets.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4),
        "'w'",
        "no data_offsets");
  }

  @Test
  void missingFile() {
    fails(tmp.resolve("absent.safetensors"), "no such file");
  }

  @Test
  void readingAnAbsentTensorNamesIt() throws IOException {
    Path p = file("ok.safetensors", "{" + entry("w", "F32", "[2]", 0, 8) + "}", 8);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      TensorFormatException e = assertThrows(TensorFormatException.class, () -> f.readFloats("v"));
      assertTrue(
          e.getMessage().contains(p.toString()) && e.getMessage().contains("'v'"), e.getMessage());
    }
  }
}
