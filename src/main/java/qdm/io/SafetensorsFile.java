package qdm.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A memory-mapped safetensors file of any size.
 *
 * <p>Layout: an 8-byte little-endian header length N, N bytes of JSON mapping tensor names to
 * {@code {dtype, shape, data_offsets}} (plus an optional {@code __metadata__} object), then the raw
 * little-endian data; offsets are relative to the start of the data. Real checkpoint shards are
 * about 5 GB and a Java buffer holds at most 2 GiB, so data is mapped in pieces of at most {@link
 * #MAP_PIECE} bytes, on demand; nothing but the header is read at open.
 *
 * <p>Everything in the header is checked at open, so a corrupt file fails before any compute with a
 * message naming the file and the tensor. Instances are safe to share between threads.
 */
public final class SafetensorsFile implements TensorStore {
  /** The largest header accepted (the format's own reference reader uses the same bound). */
  public static final long MAX_HEADER_BYTES = 100L * 1000 * 1000;

  private static final Gson STRICT_JSON =
      new GsonBuilder().setStrictness(Strictness.STRICT).create();

  /** The largest piece mapped at once. */
  static final int MAP_PIECE = 1 << 28;

  private final Path path;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;
  private final int mapPiece;

  private SafetensorsFile(
      Path path,
      FileChannel channel,
      long dataStart,
      Map<String, TensorInfo> tensors,
      Map<String, String> metadata,
      int mapPiece) {
    this.mapPiece = mapPiece;
    this.path = path;
    this.channel = channel;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens and validates a safetensors file; the data is mapped lazily. */
  public static SafetensorsFile open(Path path) {
    return open(path, MAP_PIECE);
  }

  /** As {@link #open(Path)}, mapping at most {@code mapPiece} bytes at once (tests use less). */
  static SafetensorsFile open(Path path, int mapPiece) {
    if (mapPiece < 8 || mapPiece % 8 != 0) {
      throw new IllegalArgumentException(
          "map piece " + mapPiece + " must be a positive multiple" + " of 8 bytes");
    }
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new TensorFormatException(path, "no such file");
    } catch (IOException e) {
      throw new TensorFormatException(path, "cannot open: " + e.getMessage(), e);
    }
    try {
      long size = channel.size();
      if (size < 8) {
        throw new TensorFormatException(
            path,
            "truncated: "
                + size
                + " bytes, but a safetensors file starts with an 8-byte header length");
      }
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, lengthBytes, 0);
      long headerLength = lengthBytes.getLong(0);
      if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
        throw new TensorFormatException(
            path,
            "header length "
                + Long.toUnsignedString(headerLength)
                + " is outside 0.."
                + MAX_HEADER_BYTES
                + " bytes; not a safetensors file?");
      }
      if (8 + headerLength > size) {
        throw new TensorFormatException(
            path,
            "truncated: the header length "
                + headerLength
                + " runs past the end of the file ("
                + size
                + " bytes)");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLength);
      readFully(channel, header, 8);
      String json = new String(header.array(), StandardCharsets.UTF_8);
      long dataStart = 8 + headerLength;
      Header parsed = parseHeader(path, json, size - dataStart);
      return new SafetensorsFile(
          path, channel, dataStart, parsed.tensors, parsed.metadata, mapPiece);
    } catch (IOException e) {
      closeQuietly(channel);
      throw new TensorFormatException(path, "cannot read: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  private record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata) {}

  private static Header parseHeader(Path path, String json, long dataSize) {
    JsonElement root;
    try {
      // strict: Gson's default parser is lenient and would accept e.g. unquoted names
      root = STRICT_JSON.fromJson(json, JsonElement.class);
    } catch (JsonParseException e) {
      throw new TensorFormatException(
          path, "the header is not valid JSON: " + JsonErrors.describe(e));
    }
    if (root == null || !root.isJsonObject()) {
      throw new TensorFormatException(path, "the header is not a JSON object");
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : root.getAsJsonObject().entrySet()) {
      String name = e.getKey();
      if (name.equals("__metadata__")) {
        if (e.getValue().isJsonObject()) {
          for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
            metadata.put(
                m.getKey(),
                m.getValue().isJsonPrimitive()
                    ? m.getValue().getAsString()
                    : m.getValue().toString());
          }
        }
        continue;
      }
      tensors.put(name, parseEntry(path, name, e.getValue(), dataSize));
    }
    checkNoOverlap(path, tensors.values());
    return new Header(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
  }

  private static TensorInfo parseEntry(Path path, String name, JsonElement value, long dataSize) {
    if (!value.isJsonObject()) {
      throw new TensorFormatException(path, name, "has a header entry that is not an object");
    }
    JsonObject o = value.getAsJsonObject();
    JsonElement dtypeJson = o.get("dtype");
    if (dtypeJson == null || !dtypeJson.isJsonPrimitive()) {
      throw new TensorFormatException(path, name, "has no dtype");
    }
    DType dtype = DType.fromSafetensors(dtypeJson.getAsString());
    if (dtype == null) {
      throw new TensorFormatException(
          path,
          name,
          "has unknown dtype '"
              + dtypeJson.getAsString()
              + "' (expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
    }
    long[] shape = longArray(path, name, o.get("shape"), "shape", -1);
    long[] offsets = longArray(path, name, o.get("data_offsets"), "data_offsets", 2);
    long begin = offsets[0];
    long end = offsets[1];
    if (begin > end || end > dataSize) {
      throw new TensorFormatException(
          path,
          name,
          "has data_offsets ["
              + begin
              + ", "
              + end
              + "] outside the data section of "
              + dataSize
              + " bytes (truncated file?)");
    }
    long expected;
    try {
      expected = Math.multiplyExact(TensorInfo.numel(shape), dtype.bytes());
    } catch (ArithmeticException ex) {
      throw new TensorFormatException(path, name, "has a shape too large to address");
    }
    if (end - begin != expected) {
      throw new TensorFormatException(
          path,
          name,
          "has "
              + (end - begin)
              + " bytes but shape "
              + java.util.Arrays.toString(shape)
              + " x "
              + dtype
              + " needs "
              + expected);
    }
    return new TensorInfo(name, dtype, shape, begin, end);
  }

  private static long[] longArray(Path path, String name, JsonElement e, String key, int length) {
    if (e == null || !e.isJsonArray()) {
      throw new TensorFormatException(path, name, "has no " + key + " array");
    }
    JsonArray a = e.getAsJsonArray();
    if (length >= 0 && a.size() != length) {
      throw new TensorFormatException(
          path, name, "has " + key + " of length " + a.size() + ", expected " + length);
    }
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonElement v = a.get(i);
      long x;
      try {
        x = v.getAsLong();
        if (v.getAsDouble() != x) {
          throw new NumberFormatException();
        }
      } catch (RuntimeException ex) {
        throw new TensorFormatException(path, name, "has a non-integer in " + key + ": " + v);
      }
      if (x < 0) {
        throw new TensorFormatException(path, name, "has a negative value in " + key + ": " + x);
      }
      out[i] = x;
    }
    return out;
  }

  private static void checkNoOverlap(Path path, Iterable<TensorInfo> infos) {
    List<TensorInfo> sorted = new ArrayList<>();
    infos.forEach(sorted::add);
    sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    TensorInfo previous = null;
    for (TensorInfo t : sorted) {
      if (t.byteLength() == 0) {
        continue;
      }
      if (previous != null && t.begin() < previous.end()) {
        throw new TensorFormatException(
            path,
            t.name(),
            "overlaps tensor '"
                + previous.name()
                + "' (bytes ["
                + t.begin()
                + ", "
                + t.end()
                + ") and ["
                + previous.begin()
                + ", "
                + previous.end()
                + "))");
      }
      previous = t;
    }
  }

  @Override
  public Path source() {
    return path;
  }

  @Override
  public Set<String> names() {
    return tensors.keySet();
  }

  /** All tensor entries in header order. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  /** The {@code __metadata__} entries (empty if none). */
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public TensorInfo info(String name) {
    TensorInfo info = tensors.get(name);
    if (info == null) {
      throw new TensorFormatException(path, name, "is not in this file");
    }
    return info;
  }

  /**
   * Maps {@code length} bytes of a tensor starting at byte {@code fromByte} of its data; the buffer
   * is little-endian and read-only. {@code length} is at most {@link Integer#MAX_VALUE}.
   */
  public ByteBuffer map(TensorInfo info, long fromByte, int length) {
    if (fromByte < 0 || fromByte + length > info.byteLength()) {
      throw new IndexOutOfBoundsException(
          "bytes [" + fromByte + ", " + (fromByte + length) + ") of " + info);
    }
    try {
      return channel
          .map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin() + fromByte, length)
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new TensorFormatException(path, info.name(), "cannot be mapped: " + e.getMessage());
    }
  }

  @Override
  public void readFloats(String name, long from, float[] dst, int dstOffset, int count) {
    TensorInfo info = info(name);
    if (!info.dtype().isFloat()) {
      throw new TensorFormatException(
          path, name, "has dtype " + info.dtype() + ", expected a floating point type");
    }
    checkRange(info, from, count);
    int width = info.dtype().bytes();
    int perPiece = mapPiece / width;
    int done = 0;
    while (done < count) {
      int n = Math.min(perPiece, count - done);
      ByteBuffer piece = map(info, (from + done) * width, n * width);
      ElementCodec.decodeFloats(info.dtype(), piece, dst, dstOffset + done, n);
      done += n;
    }
  }

  @Override
  public long[] readLongs(String name) {
    TensorInfo info = info(name);
    if (info.dtype().isFloat()) {
      throw new TensorFormatException(
          path, name, "has dtype " + info.dtype() + ", expected an integer type");
    }
    long n = info.numel();
    if (n * info.dtype().bytes() > Integer.MAX_VALUE) {
      throw new TensorFormatException(path, name, "is too large to read as one array");
    }
    long[] out = new long[(int) n];
    ElementCodec.decodeLongs(info.dtype(), map(info, 0, (int) info.byteLength()), out);
    return out;
  }

  private void checkRange(TensorInfo info, long from, int count) {
    if (from < 0 || count < 0 || from + count > info.numel()) {
      throw new IndexOutOfBoundsException(
          "elements [" + from + ", " + (from + count) + ") of " + info);
    }
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }

  @Override
  public String toString() {
    return "safetensors " + path + " (" + tensors.size() + " tensors)";
  }

  private static void readFully(FileChannel channel, ByteBuffer dst, long position)
      throws IOException {
    while (dst.hasRemaining()) {
      int n = channel.read(dst, position + dst.position());
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing useful to do: the file was only read
    }
  }
}
