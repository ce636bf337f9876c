package qdm.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes float32 host tensors to a safetensors file, optionally narrowed to F16 or BF16.
 *
 * <p>The file appears atomically: it is written next to the target and moved into place, so a
 * failed write never leaves a partial file under the target name.
 */
public final class SafetensorsWriter {
  private final Map<String, HostTensor> tensors = new LinkedHashMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  /** Adds a tensor; names keep insertion order in the header. */
  public SafetensorsWriter add(String name, HostTensor tensor) {
    if (tensors.putIfAbsent(name, tensor) != null) {
      throw new IllegalArgumentException("duplicate tensor name " + name);
    }
    return this;
  }

  /** Adds a {@code __metadata__} entry. */
  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /** Writes all tensors as F32. */
  public void write(Path target) {
    write(target, DType.F32);
  }

  /** Writes all tensors stored as {@code dtype} (F32, F16 or BF16). */
  public void write(Path target, DType dtype) {
    if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
      throw new IllegalArgumentException("cannot write " + dtype);
    }
    JsonObject header = new JsonObject();
    if (!metadata.isEmpty()) {
      JsonObject meta = new JsonObject();
      metadata.forEach(meta::addProperty);
      header.add("__metadata__", meta);
    }
    long offset = 0;
    for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
      long bytes = (long) e.getValue().data().length * dtype.bytes();
      JsonObject entry = new JsonObject();
      entry.addProperty("dtype", dtype.name());
      JsonArray shape = new JsonArray();
      for (long d : e.getValue().shape()) {
        shape.add(d);
      }
      entry.add("shape", shape);
      JsonArray offsets = new JsonArray();
      offsets.add(offset);
      offsets.add(offset + bytes);
      entry.add("data_offsets", offsets);
      header.add(e.getKey(), entry);
      offset += bytes;
    }
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8; // keep the data 8-byte aligned
    byte[] headerBytes = new byte[padded];
    java.util.Arrays.fill(headerBytes, (byte) ' ');
    System.arraycopy(json, 0, headerBytes, 0, json.length);

    Path absolute = target.toAbsolutePath();
    Path tmp = absolute.resolveSibling("." + absolute.getFileName() + ".tmp");
    try {
      if (absolute.getParent() != null) {
        Files.createDirectories(absolute.getParent());
      }
      try (OutputStream out =
          new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        len.putLong(padded);
        out.write(len.array());
        out.write(headerBytes);
        for (HostTensor t : tensors.values()) {
          writeData(out, t.data(), dtype);
        }
      }
      Files.move(
          tmp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // the original error matters more
      }
      throw new qdm.QdmException(target + ": cannot write: " + describe(e), e);
    }
  }

  private static String describe(IOException e) {
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
      return f.getReason() + " (" + f.getFile() + ")";
    }
    return e instanceof java.nio.file.NoSuchFileException
        ? "no such directory: " + e.getMessage()
        : e instanceof java.nio.file.AccessDeniedException
            ? "permission denied: " + e.getMessage()
            : e instanceof java.nio.file.FileAlreadyExistsException
                ? "a file is in the way: " + e.getMessage()
                : String.valueOf(e.getMessage());
  }

  private static void writeData(OutputStream out, float[] data, DType dtype) throws IOException {
    int chunk = 1 << 16;
    ByteBuffer buf = ByteBuffer.allocate(chunk * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    for (int start = 0; start < data.length; start += chunk) {
      int n = Math.min(chunk, data.length - start);
      buf.clear();
      for (int i = 0; i < n; i++) {
        float v = data[start + i];
        switch (dtype) {
          case F32 -> buf.putFloat(v);
          case F16 -> buf.putShort(Floats.floatToF16(v));
          default -> buf.putShort(Floats.floatToBf16(v));
        }
      }
      out.write(buf.array(), 0, buf.position());
    }
  }
}
