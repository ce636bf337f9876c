package qdm.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes safetensors files with tensors of any dtype, as quantization libraries do (int32 packed
 * words, uint8 codes, float16 scales next to float32 norms), for test checkpoints. Written from the
 * safetensors format: an 8-byte little-endian header length, the JSON header, then the data.
 */
public final class RawSafetensors {
  private record Entry(String dtype, long[] shape, byte[] data) {}

  private final Map<String, Entry> tensors = new LinkedHashMap<>();

  public RawSafetensors add(String name, String dtype, long[] shape, byte[] data) {
    tensors.put(name, new Entry(dtype, shape.clone(), data));
    return this;
  }

  public RawSafetensors f32(String name, long[] shape, float[] v) {
    ByteBuffer b = le(v.length * 4);
    for (float x : v) {
      b.putFloat(x);
    }
    return add(name, "F32", shape, b.array());
  }

  /** Float values already representable in the half type {@code dtype} (F16 or BF16). */
  public RawSafetensors half(String name, String dtype, long[] shape, float[] v) {
    ByteBuffer b = le(v.length * 2);
    for (float x : v) {
      b.putShort(dtype.equals("F16") ? qdm.io.Floats.floatToF16(x) : qdm.io.Floats.floatToBf16(x));
    }
    return add(name, dtype, shape, b.array());
  }

  public RawSafetensors i32(String name, long[] shape, int[] v) {
    ByteBuffer b = le(v.length * 4);
    for (int x : v) {
      b.putInt(x);
    }
    return add(name, "I32", shape, b.array());
  }

  public RawSafetensors i64(String name, long[] shape, long[] v) {
    ByteBuffer b = le(v.length * 8);
    for (long x : v) {
      b.putLong(x);
    }
    return add(name, "I64", shape, b.array());
  }

  public RawSafetensors i8(String name, long[] shape, int[] v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return add(name, "I8", shape, b);
  }

  public RawSafetensors u8(String name, long[] shape, int[] v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return add(name, "U8", shape, b);
  }

  private static ByteBuffer le(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }

  public void write(Path file) {
    JsonObject header = new JsonObject();
    long offset = 0;
    for (Map.Entry<String, Entry> e : tensors.entrySet()) {
      JsonObject t = new JsonObject();
      t.addProperty("dtype", e.getValue().dtype);
      JsonArray shape = new JsonArray();
      for (long d : e.getValue().shape) {
        shape.add(d);
      }
      t.add("shape", shape);
      JsonArray offsets = new JsonArray();
      offsets.add(offset);
      offset += e.getValue().data.length;
      offsets.add(offset);
      t.add("data_offsets", offsets);
      header.add(e.getKey(), t);
    }
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(le(8).putLong(padded).array());
      out.write(json);
      out.write(" ".repeat(padded - json.length).getBytes(StandardCharsets.US_ASCII));
      for (Entry e : tensors.values()) {
        out.write(e.data);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
