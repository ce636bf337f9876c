package qdm.io.gguf;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import qdm.QdmException;

/**
 * A GGUF file (llama.cpp's model format, versions 2 and 3) opened for reading: its metadata
 * key-value pairs and tensor directory are parsed once; tensor data stays in the file and is
 * memory-mapped one tensor at a time when read.
 *
 * <p>Layout (little-endian): magic {@code GGUF}, version u32, tensor count u64, metadata count u64;
 * each metadata pair a string key, a u32 value type and the value (strings are a u64 length and
 * UTF-8 bytes; arrays an element type, a u64 count and the elements); each tensor a name, a u32
 * dimension count, that many u64 extents ({@code ne[0]} the innermost, so the row-major shape is
 * the reverse), a u32 GGML type and a u64 offset into the data section, which starts at the next
 * multiple of {@code general.alignment} (32 by default) after the directory.
 */
public final class GgufFile implements AutoCloseable {
  private static final int MAGIC = 0x46554747; // "GGUF" read little-endian
  private static final long MAX_STRING = 1L << 30;
  private static final long MAX_ITEMS = 1L << 31;

  /** One tensor of the directory; {@code shape} is row-major (ne reversed). */
  public record Tensor(String name, long[] shape, int typeId, long offset) {
    public long numel() {
      long n = 1;
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      return n;
    }
  }

  private final Path path;
  private final FileChannel channel;
  private final int version;
  private final Map<String, Object> metadata;
  private final Map<String, Tensor> tensors;
  private final long dataStart;
  private final long size;

  private GgufFile(
      Path path,
      FileChannel channel,
      int version,
      Map<String, Object> metadata,
      Map<String, Tensor> tensors,
      long dataStart,
      long size) {
    this.path = path;
    this.channel = channel;
    this.version = version;
    this.metadata = metadata;
    this.tensors = tensors;
    this.dataStart = dataStart;
    this.size = size;
  }

  /** Opens and parses {@code path}; a malformed or truncated file fails naming what is wrong. */
  public static GgufFile open(Path path) {
    FileChannel ch;
    try {
      ch = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new QdmException(path + ": GGUF file not found");
    } catch (IOException e) {
      throw new QdmException(path + ": cannot open (" + e.getMessage() + ")");
    }
    try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
      long size = ch.size();
      Reader r = new Reader(path, in);
      int magic = r.i32();
      if (magic != MAGIC) {
        throw new QdmException(path + ": not a GGUF file (the first four bytes are not 'GGUF')");
      }
      int version = r.i32();
      if (version != 2 && version != 3) {
        throw new QdmException(
            path + ": GGUF version " + version + " (QDM reads versions 2 and" + " 3)");
      }
      long tensorCount = r.count("tensor count");
      long kvCount = r.count("metadata count");
      Map<String, Object> meta = new LinkedHashMap<>();
      for (long i = 0; i < kvCount; i++) {
        String key = r.string();
        meta.put(key, r.value(r.i32(), key));
      }
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      for (long i = 0; i < tensorCount; i++) {
        String name = r.string();
        int dims = r.i32();
        if (dims < 1 || dims > 4) {
          throw new QdmException(
              path
                  + ": tensor '"
                  + name
                  + "' has "
                  + dims
                  + " dimensions (GGUF tensors have 1 to 4)");
        }
        long[] ne = new long[dims];
        for (int d = 0; d < dims; d++) {
          ne[d] = r.i64();
          if (ne[d] <= 0) {
            throw new QdmException(path + ": tensor '" + name + "' has extent " + ne[d]);
          }
        }
        long[] shape = new long[dims];
        for (int d = 0; d < dims; d++) {
          shape[d] = ne[dims - 1 - d];
        }
        int type = r.i32();
        long offset = r.i64();
        if (tensors.put(name, new Tensor(name, shape, type, offset)) != null) {
          throw new QdmException(path + ": tensor '" + name + "' appears twice");
        }
      }
      long alignment = 32;
      Object a = meta.get("general.alignment");
      if (a instanceof Number n) {
        alignment = n.longValue();
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
          throw new QdmException(
              path + ": general.alignment " + alignment + " is not a power of two");
        }
      }
      long dataStart = (r.position + alignment - 1) / alignment * alignment;
      GgufFile f =
          new GgufFile(
              path,
              ch,
              version,
              Collections.unmodifiableMap(meta),
              Collections.unmodifiableMap(tensors),
              dataStart,
              size);
      return f;
    } catch (QdmException e) {
      closeQuietly(ch);
      throw e;
    } catch (EOFException e) {
      closeQuietly(ch);
      throw new QdmException(
          path
              + ": truncated GGUF header (the file ends inside the "
              + "metadata or tensor directory)");
    } catch (IOException e) {
      closeQuietly(ch);
      throw new UncheckedIOException(e);
    }
  }

  public Path path() {
    return path;
  }

  public int version() {
    return version;
  }

  /** Metadata values: Long for integers, Double for floats, Boolean, String, or a List. */
  public Map<String, Object> metadata() {
    return metadata;
  }

  /** A metadata string, or null. */
  public String string(String key) {
    return metadata.get(key) instanceof String s ? s : null;
  }

  /** A metadata integer, or -1. */
  public long integer(String key) {
    return metadata.get(key) instanceof Long n ? n : -1;
  }

  public Map<String, Tensor> tensors() {
    return tensors;
  }

  /** The file's size in bytes. */
  public long size() {
    return size;
  }

  /** Absolute file offset of a tensor's data. */
  public long dataOffset(Tensor t) {
    return dataStart + t.offset();
  }

  /** Maps {@code length} bytes of the file from absolute {@code offset}, little-endian. */
  public ByteBuffer map(long offset, long length) {
    if (offset < 0 || length < 0 || offset + length > size) {
      throw new QdmException(
          path
              + ": tensor data at bytes ["
              + offset
              + ", "
              + (offset + length)
              + ") lies beyond the end of the file ("
              + size
              + " bytes): the file is truncated");
    }
    if (length > Integer.MAX_VALUE) {
      throw new QdmException(
          path + ": a tensor region of " + length + " bytes is too large " + "to map at once");
    }
    try {
      return channel
          .map(FileChannel.MapMode.READ_ONLY, offset, length)
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  /** A little-endian reader of the header that counts its position. */
  private static final class Reader {
    private final Path path;
    private final InputStream in;
    private final byte[] eight = new byte[8];
    long position;

    Reader(Path path, InputStream in) {
      this.path = path;
      this.in = in;
    }

    private void fill(byte[] b, int n) throws IOException {
      int done = 0;
      while (done < n) {
        int k = in.read(b, done, n - done);
        if (k < 0) {
          throw new EOFException();
        }
        done += k;
      }
      position += n;
    }

    int i32() throws IOException {
      fill(eight, 4);
      return ByteBuffer.wrap(eight, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    long i64() throws IOException {
      fill(eight, 8);
      return ByteBuffer.wrap(eight, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    long count(String what) throws IOException {
      long n = i64();
      if (n < 0 || n > MAX_ITEMS) {
        throw new QdmException(
            path + ": GGUF " + what + " " + n + " is not plausible; the " + "header is corrupt");
      }
      return n;
    }

    String string() throws IOException {
      long n = i64();
      if (n < 0 || n > MAX_STRING) {
        throw new QdmException(
            path
                + ": a GGUF string of length "
                + n
                + " is not plausible; "
                + "the header is corrupt");
      }
      byte[] b = new byte[(int) n];
      fill(b, (int) n);
      return new String(b, StandardCharsets.UTF_8);
    }

    Object value(int type, String key) throws IOException {
      return switch (type) {
        case 0 -> {
          fill(eight, 1);
          yield (long) (eight[0] & 0xFF);
        }
        case 1 -> {
          fill(eight, 1);
          yield (long) eight[0];
        }
        case 2 -> {
          fill(eight, 2);
          yield (long)
              (ByteBuffer.wrap(eight, 0, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF);
        }
        case 3 -> {
          fill(eight, 2);
          yield (long) ByteBuffer.wrap(eight, 0, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
        }
        case 4 -> (long) i32() & 0xFFFFFFFFL;
        case 5 -> (long) i32();
        case 6 -> (double) Float.intBitsToFloat(i32());
        case 7 -> {
          fill(eight, 1);
          yield eight[0] != 0;
        }
        case 8 -> string();
        case 9 -> {
          int elementType = i32();
          long n = count("array length of " + key);
          List<Object> list = new ArrayList<>((int) Math.min(n, 1 << 20));
          for (long i = 0; i < n; i++) {
            list.add(value(elementType, key));
          }
          yield list;
        }
        case 10, 11 -> i64();
        case 12 -> Double.longBitsToDouble(i64());
        default ->
            throw new QdmException(
                path
                    + ": metadata '"
                    + key
                    + "' has value type "
                    + type
                    + ", which GGUF does not define; the header is corrupt");
      };
    }
  }
}
