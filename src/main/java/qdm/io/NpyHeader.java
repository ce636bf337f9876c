package qdm.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The header of one {@code .npy} array: element type, shape and where the data starts.
 *
 * <p>Layout (NumPy format versions 1.0, 2.0 and 3.0): the magic {@code \x93NUMPY}, a major and a
 * minor version byte, the header length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0),
 * then a Python dict literal such as {@code {'descr': '<f4', 'fortran_order': False, 'shape': (64,
 * 256), }} padded with spaces; the raw data follows. Only little-endian C-order arrays are
 * accepted: big-endian and Fortran-order files fail with a message rather than being silently
 * misread.
 *
 * @param dtype element type
 * @param shape dimensions ({@code []} for a scalar)
 * @param dataOffset bytes from the start of the .npy stream to the first element
 */
record NpyHeader(DType dtype, long[] shape, int dataOffset) {
  /** Bytes read before the header size is known: magic, version and up to 4 length bytes. */
  static final int PREAMBLE = 12;

  /** The largest header accepted; NumPy pads headers to a few hundred bytes. */
  static final int MAX_HEADER = 1 << 20;

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

  /** Little-endian (or byte-order free) descr strings and the types they map to. */
  private static final Map<String, DType> DESCR =
      Map.ofEntries(
          Map.entry("<f8", DType.F64),
          Map.entry("<f4", DType.F32),
          Map.entry("<f2", DType.F16),
          Map.entry("<i8", DType.I64),
          Map.entry("<i4", DType.I32),
          Map.entry("<i2", DType.I16),
          Map.entry("|i1", DType.I8),
          Map.entry("|u1", DType.U8),
          Map.entry("|b1", DType.BOOL));

  private static final Pattern DESCR_KEY = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN_KEY =
      Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE_KEY = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  NpyHeader {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Bytes of data the header promises. */
  long dataBytes() {
    return Math.multiplyExact(TensorInfo.numel(shape), dtype.bytes());
  }

  /**
   * The size in bytes of the whole header (preamble and dict) whose first {@link #PREAMBLE} bytes
   * are {@code start}, or fails if they do not start a .npy stream. The length field is 2 bytes in
   * format 1.0 and 4 bytes in 2.0 and 3.0.
   */
  static int headerSize(byte[] start, FormatError error) {
    for (int i = 0; i < MAGIC.length; i++) {
      if (start[i] != MAGIC[i]) {
        throw error.at("does not start with the .npy magic \\x93NUMPY");
      }
    }
    int major = start[6];
    ByteBuffer le = ByteBuffer.wrap(start).order(ByteOrder.LITTLE_ENDIAN);
    long size =
        switch (major) {
          case 1 -> 10 + (le.getShort(8) & 0xFFFF);
          case 2, 3 -> 12 + (le.getInt(8) & 0xFFFFFFFFL);
          default ->
              throw error.at(
                  "has .npy format version "
                      + major
                      + "."
                      + start[7]
                      + "; expected 1.0, 2.0 or 3.0");
        };
    if (size > MAX_HEADER) {
      throw error.at("has a .npy header of " + size + " bytes; not a .npy array?");
    }
    return (int) size;
  }

  /** Parses a whole header of {@link #headerSize} bytes. */
  static NpyHeader parse(byte[] header, FormatError error) {
    int major = header[6];
    int dictStart = major == 1 ? 10 : 12;
    String dict =
        new String(
            header,
            dictStart,
            header.length - dictStart,
            major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Matcher descr = DESCR_KEY.matcher(dict);
    Matcher fortran = FORTRAN_KEY.matcher(dict);
    Matcher shape = SHAPE_KEY.matcher(dict);
    if (!descr.find() || !fortran.find() || !shape.find()) {
      throw error.at(
          "has a .npy header without 'descr', 'fortran_order' and 'shape': " + dict.trim());
    }
    String d = descr.group(1);
    DType dtype = DESCR.get(d);
    if (dtype == null) {
      String why =
          d.startsWith(">")
              ? " (big-endian arrays are not supported; save them " + "little-endian)"
              : "";
      throw error.at(
          "has element type '"
              + d
              + "'"
              + why
              + "; supported: "
              + String.join(", ", new java.util.TreeSet<>(DESCR.keySet())));
    }
    if (fortran.group(1).equals("True")) {
      throw error.at(
          "is stored in Fortran (column-major) order, which is not supported; save it"
              + " in C order (numpy.ascontiguousarray)");
    }
    List<Long> dims = new ArrayList<>();
    for (String part : shape.group(1).split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      try {
        long v = Long.parseLong(p.endsWith("L") ? p.substring(0, p.length() - 1) : p);
        if (v < 0) {
          throw new NumberFormatException();
        }
        dims.add(v);
      } catch (NumberFormatException e) {
        throw error.at("has an invalid shape (" + shape.group(1) + ") in its .npy header");
      }
    }
    long[] s = dims.stream().mapToLong(Long::longValue).toArray();
    try {
      TensorInfo.numel(s);
    } catch (ArithmeticException e) {
      throw error.at("has a shape too large to address: (" + shape.group(1) + ")");
    }
    return new NpyHeader(dtype, s, header.length);
  }

  /** Builds the exception for a problem found while parsing, naming the file and entry. */
  @FunctionalInterface
  interface FormatError {
    TensorFormatException at(String message);
  }
}
