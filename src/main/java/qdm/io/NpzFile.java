package qdm.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * A NumPy {@code .npz} archive (what {@code numpy.savez} and {@code savez_compressed} write, and
 * how Gemma Scope ships its SAEs) read as a {@link TensorStore}.
 *
 * <p>An npz file is a zip of {@code NAME.npy} members; a tensor's name is the member name without
 * {@code .npy}. Members may be stored (memory-mapped in place, any size) or deflated (inflated on
 * read, sequentially). Every member's .npy header is parsed and checked against the member size at
 * open, so a corrupt or unsupported file fails before any compute with a message naming the file
 * and the array. Members that are not {@code .npy} files are not tensors and are left out.
 */
public final class NpzFile implements TensorStore {
  private static final String SUFFIX = ".npy";
  private static final int CHUNK = 1 << 24;

  private final Path path;
  private final FileChannel channel;
  private final Map<String, Member> members;
  private Cursor cursor; // the deflated member read last, to continue sequential reads

  /**
   * One array: where its data begins ({@code dataOffset}: the absolute file offset for a stored
   * member, the offset in the inflated stream for a deflated one).
   */
  private record Member(TensorInfo info, ZipDirectory.Entry entry, long dataOffset) {}

  private NpzFile(Path path, FileChannel channel, Map<String, Member> members) {
    this.path = path;
    this.channel = channel;
    this.members = members;
  }

  /** Opens an npz archive and validates every array header in it. */
  public static NpzFile open(Path path) {
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new TensorFormatException(path, "no such file");
    } catch (IOException e) {
      throw new TensorFormatException(path, "cannot open: " + e.getMessage(), e);
    }
    try {
      Map<String, Member> members = new LinkedHashMap<>();
      for (ZipDirectory.Entry e : ZipDirectory.read(path, channel).values()) {
        if (!e.name().endsWith(SUFFIX) || e.name().endsWith("/")) {
          continue;
        }
        String name = e.name().substring(0, e.name().length() - SUFFIX.length());
        members.put(name, member(path, channel, name, e));
      }
      return new NpzFile(path, channel, Collections.unmodifiableMap(members));
    } catch (IOException e) {
      closeQuietly(channel);
      throw new TensorFormatException(path, "cannot read: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  private static Member member(Path path, FileChannel channel, String name, ZipDirectory.Entry e)
      throws IOException {
    NpyHeader.FormatError error = m -> new TensorFormatException(path, name, m);
    if (e.method() != ZipDirectory.STORED && e.method() != ZipDirectory.DEFLATED) {
      throw error.at(
          "is compressed with zip method "
              + e.method()
              + "; only stored (0) and deflated (8) members are supported");
    }
    if (e.method() == ZipDirectory.STORED && e.compressedSize() != e.size()) {
      throw error.at(
          "is a stored zip member whose sizes disagree ("
              + e.compressedSize()
              + " vs "
              + e.size()
              + " bytes); corrupt archive");
    }
    if (e.size() < NpyHeader.PREAMBLE) {
      throw error.at("is " + e.size() + " bytes, too short for a .npy array");
    }
    NpyHeader header;
    try (InputStream in = open(channel, e)) {
      byte[] start = readExactly(in, NpyHeader.PREAMBLE);
      int size = NpyHeader.headerSize(start, error);
      if (size > e.size()) {
        throw error.at("has a .npy header longer than the member (truncated?)");
      }
      byte[] whole = new byte[size];
      System.arraycopy(start, 0, whole, 0, NpyHeader.PREAMBLE);
      byte[] rest = readExactly(in, size - NpyHeader.PREAMBLE);
      System.arraycopy(rest, 0, whole, NpyHeader.PREAMBLE, rest.length);
      header = NpyHeader.parse(whole, error);
    } catch (EOFException ex) {
      throw error.at("ends inside its .npy header (truncated or corrupt)");
    } catch (IOException ex) {
      throw error.at("cannot be read: " + ex.getMessage());
    }
    long expected;
    try {
      expected = Math.addExact(header.dataOffset(), header.dataBytes());
    } catch (ArithmeticException ex) {
      throw error.at("has a shape too large to address");
    }
    if (expected != e.size()) {
      throw error.at(
          "has "
              + (e.size() - header.dataOffset())
              + " data bytes but shape "
              + java.util.Arrays.toString(header.shape())
              + " of "
              + header.dtype()
              + " needs "
              + header.dataBytes()
              + " (truncated or corrupt)");
    }
    TensorInfo info = new TensorInfo(name, header.dtype(), header.shape(), 0, header.dataBytes());
    long dataOffset =
        e.method() == ZipDirectory.STORED
            ? e.dataStart() + header.dataOffset()
            : header.dataOffset();
    return new Member(info, e, dataOffset);
  }

  @Override
  public Path source() {
    return path;
  }

  @Override
  public Set<String> names() {
    return members.keySet();
  }

  @Override
  public TensorInfo info(String name) {
    return member(name).info();
  }

  private Member member(String name) {
    Member m = members.get(name);
    if (m == null) {
      throw new TensorFormatException(
          path,
          name,
          "is not in the archive (arrays: " + String.join(", ", members.keySet()) + ")");
    }
    return m;
  }

  @Override
  public void readFloats(String name, long from, float[] dst, int dstOffset, int count) {
    Member m = member(name);
    TensorInfo info = m.info();
    if (!info.dtype().isFloat()) {
      throw new TensorFormatException(
          path, name, "has dtype " + info.dtype() + ", expected a floating point type");
    }
    if (from < 0 || count < 0 || from + count > info.numel()) {
      throw new IndexOutOfBoundsException(
          "elements [" + from + ", " + (from + count) + ") of " + info);
    }
    int width = info.dtype().bytes();
    int perChunk = CHUNK / width;
    for (int done = 0; done < count; ) {
      int n = Math.min(perChunk, count - done);
      ByteBuffer bytes = bytes(m, (from + done) * width, n * width);
      ElementCodec.decodeFloats(info.dtype(), bytes, dst, dstOffset + done, n);
      done += n;
    }
  }

  @Override
  public long[] readLongs(String name) {
    Member m = member(name);
    TensorInfo info = m.info();
    if (info.dtype().isFloat()) {
      throw new TensorFormatException(
          path, name, "has dtype " + info.dtype() + ", expected an integer type");
    }
    if (info.byteLength() > Integer.MAX_VALUE) {
      throw new TensorFormatException(path, name, "is too large to read as one array");
    }
    long[] out = new long[(int) info.numel()];
    ElementCodec.decodeLongs(info.dtype(), bytes(m, 0, (int) info.byteLength()), out);
    return out;
  }

  /** {@code length} data bytes of a member starting at data byte {@code from}, little-endian. */
  private ByteBuffer bytes(Member m, long from, int length) {
    try {
      if (m.entry().method() == ZipDirectory.STORED) {
        return channel
            .map(FileChannel.MapMode.READ_ONLY, m.dataOffset() + from, length)
            .order(ByteOrder.LITTLE_ENDIAN);
      }
      return ByteBuffer.wrap(inflated(m, m.dataOffset() + from, length))
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (EOFException e) {
      throw new TensorFormatException(
          path, m.info().name(), "ends early when inflated (truncated or corrupt archive)");
    } catch (IOException e) {
      throw new TensorFormatException(
          path, "array '" + m.info().name() + "' cannot be read: " + e.getMessage(), e);
    }
  }

  /**
   * Inflates {@code length} bytes at {@code position} of a deflated member. Reads that continue
   * where the previous one stopped (a tensor loaded in row blocks) reuse the open stream, so a
   * whole member is inflated once; any other read starts over from the member's beginning.
   */
  private synchronized byte[] inflated(Member m, long position, int length) throws IOException {
    if (cursor == null || cursor.member != m || cursor.position > position) {
      if (cursor != null) {
        cursor.in.close();
      }
      cursor = new Cursor(m, open(channel, m.entry()));
    }
    long skip = position - cursor.position;
    while (skip > 0) {
      long s = cursor.in.skip(skip);
      if (s <= 0) {
        throw new EOFException();
      }
      skip -= s;
      cursor.position += s;
    }
    byte[] out = readExactly(cursor.in, length);
    cursor.position += length;
    return out;
  }

  private static final class Cursor {
    final Member member;
    final InputStream in;
    long position;

    Cursor(Member member, InputStream in) {
      this.member = member;
      this.in = in;
    }
  }

  /** The member's uncompressed bytes as a stream, from uncompressed byte 0. */
  private static InputStream open(FileChannel channel, ZipDirectory.Entry e) throws IOException {
    InputStream raw = new ChannelSlice(channel, e.dataStart(), e.compressedSize());
    if (e.method() == ZipDirectory.STORED) {
      return raw;
    }
    return new InflaterInputStream(raw, new Inflater(true), 1 << 16) {
      @Override
      public void close() throws IOException {
        super.close();
        inf.end(); // a caller-supplied Inflater is not ended by close()
      }
    };
  }

  private static byte[] readExactly(InputStream in, int n) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length != n) {
      throw new EOFException();
    }
    return b;
  }

  /** A byte range of a file as a stream, read with positional reads (no shared position). */
  private static final class ChannelSlice extends InputStream {
    private final FileChannel channel;
    private long position;
    private final long end;

    ChannelSlice(FileChannel channel, long start, long length) {
      this.channel = channel;
      this.position = start;
      this.end = start + length;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (position >= end) {
        return -1;
      }
      int n = (int) Math.min(len, end - position);
      int r = channel.read(ByteBuffer.wrap(b, off, n), position);
      if (r < 0) {
        throw new EOFException();
      }
      position += r;
      return r;
    }

    @Override
    public long skip(long n) {
      long s = Math.max(0, Math.min(n, end - position));
      position += s;
      return s;
    }
  }

  @Override
  public synchronized void close() {
    if (cursor != null) {
      try {
        cursor.in.close();
      } catch (IOException ignored) {
        // only read from
      }
      cursor = null;
    }
    closeQuietly(channel);
  }

  @Override
  public String toString() {
    return "npz " + path + " (" + members.size() + " arrays)";
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing useful to do: the file was only read
    }
  }
}
