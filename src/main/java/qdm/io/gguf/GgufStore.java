package qdm.io.gguf;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import qdm.QdmException;
import qdm.io.DType;
import qdm.io.TensorFormatException;
import qdm.io.TensorInfo;
import qdm.io.TensorStore;

/**
 * A GGUF file seen as float32 tensors under the Hugging Face names of the architecture {@link
 * GgufNames} describes, dequantized block by block as they are read: a read of elements [from, from
 * + count) decodes only the blocks that hold them, from a memory-mapped window of the file, so
 * memory stays at one window and the caller's buffer whatever the file's size.
 *
 * <p>Everything is checked when the store opens, before any tensor is read: the file's
 * architecture, every tensor's name (a tensor the architecture has no name for is an error, not
 * skipped), its type (the I-quants and other types {@link GgmlType} lacks fail naming the tensor),
 * its row length against the type's block size, and that its data lies inside the file.
 */
public final class GgufStore implements TensorStore {
  private static final long WINDOW = 256L << 20;

  private record Entry(GgufFile.Tensor tensor, GgmlType type, GgufNames.Undo undo, long[] shape) {}

  private final GgufFile file;
  private final Map<String, Entry> byHf = new LinkedHashMap<>();
  private final Map<String, Integer> typeCounts = new LinkedHashMap<>();
  private ByteBuffer window;
  private long windowStart = -1;
  private long windowEnd = -1;
  private float[] block = new float[256];

  private GgufStore(GgufFile file) {
    this.file = file;
  }

  /** Opens {@code path} as tensors of the architecture {@code names} maps. */
  public static GgufStore open(Path path, GgufNames names) {
    GgufFile f = GgufFile.open(path);
    try {
      GgufStore s = new GgufStore(f);
      s.index(names);
      return s;
    } catch (RuntimeException e) {
      f.close();
      throw e;
    }
  }

  private void index(GgufNames names) {
    Path p = file.path();
    String arch = file.string("general.architecture");
    if (arch != null && !names.architectures().contains(arch)) {
      throw new QdmException(
          p
              + ": a GGUF of architecture '"
              + arch
              + "', but the model is "
              + names.model()
              + " (GGUF architecture "
              + String.join(" or ", names.architectures())
              + "): the file is not a checkpoint of this model");
    }
    List<String> unknown = new ArrayList<>();
    for (GgufFile.Tensor t : file.tensors().values()) {
      if (names.ignored(t.name())) {
        continue;
      }
      var mapped = names.map(t.name());
      if (mapped.isEmpty()) {
        unknown.add(t.name());
        continue;
      }
      GgmlType type = GgmlType.of(t.typeId());
      if (type == null) {
        throw new QdmException(
            p
                + ": tensor '"
                + t.name()
                + "' has GGML type "
                + GgmlType.name(t.typeId())
                + ", which QDM does not dequantize (it reads "
                + GgmlType.supported()
                + "); re-quantize the model to one of those with "
                + "llama-quantize");
      }
      long[] shape = t.shape();
      long row = shape[shape.length - 1];
      if (row % type.blockSize() != 0) {
        throw new QdmException(
            p
                + ": tensor '"
                + t.name()
                + "' has rows of "
                + row
                + " elements, not a multiple of the "
                + type
                + " block of "
                + type.blockSize());
      }
      long bytes = t.numel() / type.blockSize() * type.typeSize();
      long at = file.dataOffset(t);
      if (at + bytes > file.size()) {
        throw new QdmException(
            p
                + ": tensor '"
                + t.name()
                + "' needs bytes ["
                + at
                + ", "
                + (at + bytes)
                + ") but the file has "
                + file.size()
                + ": it is truncated");
      }
      String hf = mapped.get().hfName();
      if (byHf.put(hf, new Entry(t, type, mapped.get().undo(), shape)) != null) {
        throw new QdmException(p + ": two tensors map to '" + hf + "'");
      }
      typeCounts.merge(type.name(), 1, Integer::sum);
    }
    if (!unknown.isEmpty()) {
      throw new QdmException(
          p
              + ": "
              + unknown.size()
              + " tensor(s) that QDM's "
              + names.model()
              + " has no Hugging Face name for: '"
              + String.join("', '", unknown.subList(0, Math.min(8, unknown.size())))
              + "'"
              + (unknown.size() > 8 ? " and " + (unknown.size() - 8) + " more" : ""));
    }
  }

  /** The GGML types of the mapped tensors with their counts ("Q4_K x 12, Q6_K x 2"). */
  public Map<String, Integer> types() {
    return typeCounts;
  }

  /** The GGUF metadata of the file. */
  public GgufFile file() {
    return file;
  }

  /** The GGML type of a tensor, by Hugging Face name. */
  public GgmlType typeOf(String name) {
    return entry(name).type;
  }

  @Override
  public Path source() {
    return file.path();
  }

  @Override
  public Set<String> names() {
    return byHf.keySet();
  }

  @Override
  public boolean storedAsLinear(String name) {
    return byHf.containsKey(name) && byHf.get(name).shape.length == 2;
  }

  private Entry entry(String name) {
    Entry e = byHf.get(name);
    if (e == null) {
      throw new TensorFormatException(file.path(), name, "is not in this GGUF file");
    }
    return e;
  }

  @Override
  public TensorInfo info(String name) {
    Entry e = entry(name);
    return new TensorInfo(name, DType.F32, e.shape, 0, 0);
  }

  @Override
  public synchronized void readFloats(
      String name, long from, float[] dst, int dstOffset, int count) {
    Entry e = entry(name);
    long n = e.tensor.numel();
    if (from < 0 || count < 0 || from + count > n) {
      throw new IndexOutOfBoundsException(
          "elements [" + from + ", " + (from + count) + ") of " + name + " (" + n + ")");
    }
    long cols = e.shape.length == 1 ? 1 : e.shape[e.shape.length - 1];
    long rows = n / cols;
    boolean reordered =
        !(e.undo instanceof GgufNames.Undo.None) && !(e.undo instanceof GgufNames.Undo.PlusOne);
    if (!reordered) {
      decode(e, from, dst, dstOffset, count);
    } else {
      long done = 0;
      while (done < count) {
        long at = from + done;
        long row = at / cols;
        long col = at % cols;
        int len = (int) Math.min(cols - col, count - done);
        long src = e.undo.sourceRow(row, rows);
        decode(e, src * cols + col, dst, dstOffset + (int) done, len);
        done += len;
      }
    }
    if (e.undo instanceof GgufNames.Undo.PlusOne) {
      for (int i = 0; i < count; i++) {
        dst[dstOffset + i] = e.undo.value(dst[dstOffset + i]);
      }
    }
  }

  /** Decodes stored elements [start, start + count) into dst. */
  private void decode(Entry e, long start, float[] dst, int off, int count) {
    GgmlType t = e.type;
    int bs = t.blockSize();
    long base = file.dataOffset(e.tensor);
    long first = start / bs;
    long last = (start + count - 1) / bs;
    int written = 0;
    for (long b = first; b <= last; b++) {
      long byteAt = base + b * t.typeSize();
      ByteBuffer buf = windowFor(byteAt, t.typeSize(), base, e.tensor.numel() / bs * t.typeSize());
      t.decode(buf, (int) (byteAt - windowStart), block, 0);
      long blockStart = b * bs;
      int from = (int) Math.max(0, start - blockStart);
      int to = (int) Math.min(bs, start + count - blockStart);
      System.arraycopy(block, from, dst, off + written, to - from);
      written += to - from;
    }
  }

  /** A mapped window of the file holding [at, at + len) within the tensor's bytes. */
  private ByteBuffer windowFor(long at, int len, long tensorStart, long tensorBytes) {
    if (window == null || at < windowStart || at + len > windowEnd) {
      long end = Math.min(tensorStart + tensorBytes, at + WINDOW);
      window = file.map(at, end - at);
      windowStart = at;
      windowEnd = end;
    }
    return window;
  }

  @Override
  public long[] readLongs(String name) {
    throw new TensorFormatException(file.path(), name, "is a float tensor");
  }

  @Override
  public void close() {
    window = null;
    file.close();
  }
}
