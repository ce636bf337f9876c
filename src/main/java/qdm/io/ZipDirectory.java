package qdm.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The central directory of a zip archive, read with positional reads on a channel so that archives
 * of any size (zip64) work and stored entries can be memory-mapped in place.
 *
 * <p>Layout followed (PKWARE APPNOTE): the end-of-central-directory record (signature {@code
 * PK\5\6}) in the last 64 KiB, optionally preceded by a zip64 locator ({@code PK\6\7}) pointing at
 * a zip64 end record ({@code PK\6\6}); central directory headers ({@code PK\1\2}) whose 0xFFFFFFFF
 * sizes and offsets are replaced by the zip64 extra field (id 1); each entry's data starts after
 * its local header ({@code PK\3\4}, 30 bytes plus name and extra field).
 */
final class ZipDirectory {
  static final int STORED = 0;
  static final int DEFLATED = 8;

  private static final int EOCD_SIG = 0x06054b50;
  private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
  private static final int ZIP64_EOCD_SIG = 0x06064b50;
  private static final int CENTRAL_SIG = 0x02014b50;
  private static final int LOCAL_SIG = 0x04034b50;
  private static final int EOCD_SIZE = 22;
  private static final long U32_MAX = 0xFFFFFFFFL;

  /**
   * One archive member.
   *
   * @param method compression method: {@link #STORED} or {@link #DEFLATED} (others are rejected
   *     when read)
   * @param dataStart absolute file offset of the member's (compressed) data
   */
  record Entry(String name, int method, long compressedSize, long size, long dataStart) {}

  private ZipDirectory() {}

  /** Reads every entry of the archive; fails with a message naming the file if it is corrupt. */
  static Map<String, Entry> read(Path path, FileChannel channel) throws IOException {
    long fileSize = channel.size();
    if (fileSize < EOCD_SIZE) {
      throw new TensorFormatException(
          path,
          "is "
              + fileSize
              + " bytes, too short for a zip "
              + "archive (an .npz file is a zip of .npy arrays)");
    }
    int tailLength = (int) Math.min(fileSize, EOCD_SIZE + 0xFFFF);
    ByteBuffer tail = read(channel, fileSize - tailLength, tailLength);
    int eocd = -1;
    for (int i = tailLength - EOCD_SIZE; i >= 0; i--) {
      if (tail.getInt(i) == EOCD_SIG
          && i + EOCD_SIZE + (tail.getShort(i + 20) & 0xFFFF) == tailLength) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      throw new TensorFormatException(
          path, "has no zip end-of-central-directory record; not a " + "zip archive, or truncated");
    }
    long entries = tail.getShort(eocd + 10) & 0xFFFF;
    long cdSize = tail.getInt(eocd + 12) & U32_MAX;
    long cdOffset = tail.getInt(eocd + 16) & U32_MAX;
    long eocdAbsolute = fileSize - tailLength + eocd;
    if (eocdAbsolute >= 20) {
      ByteBuffer locator = read(channel, eocdAbsolute - 20, 20);
      if (locator.getInt(0) == ZIP64_LOCATOR_SIG) {
        long zip64Eocd = locator.getLong(8);
        if (zip64Eocd < 0 || zip64Eocd + 56 > fileSize) {
          throw new TensorFormatException(path, "has a zip64 locator pointing outside the file");
        }
        ByteBuffer z = read(channel, zip64Eocd, 56);
        if (z.getInt(0) != ZIP64_EOCD_SIG) {
          throw new TensorFormatException(path, "has a corrupt zip64 end-of-central-directory");
        }
        entries = z.getLong(32);
        cdSize = z.getLong(40);
        cdOffset = z.getLong(48);
      }
    }
    if (cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > fileSize || cdSize > Integer.MAX_VALUE) {
      throw new TensorFormatException(
          path, "has a zip central directory outside the file " + "(truncated or corrupt)");
    }
    ByteBuffer cd = read(channel, cdOffset, (int) cdSize);
    Map<String, Entry> out = new LinkedHashMap<>();
    int p = 0;
    for (long n = 0; n < entries; n++) {
      if (p + 46 > cdSize || cd.getInt(p) != CENTRAL_SIG) {
        throw new TensorFormatException(
            path, "has a corrupt zip central directory (entry " + n + ")");
      }
      int flags = cd.getShort(p + 8) & 0xFFFF;
      int method = cd.getShort(p + 10) & 0xFFFF;
      long compressed = cd.getInt(p + 20) & U32_MAX;
      long size = cd.getInt(p + 24) & U32_MAX;
      int nameLength = cd.getShort(p + 28) & 0xFFFF;
      int extraLength = cd.getShort(p + 30) & 0xFFFF;
      int commentLength = cd.getShort(p + 32) & 0xFFFF;
      long localOffset = cd.getInt(p + 42) & U32_MAX;
      if (p + 46L + nameLength + extraLength + commentLength > cdSize) {
        throw new TensorFormatException(
            path, "has a corrupt zip central directory (entry " + n + ")");
      }
      byte[] nameBytes = new byte[nameLength];
      cd.get(p + 46, nameBytes);
      String name =
          new String(
              nameBytes,
              (flags & 0x800) != 0 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
      // zip64 extra field: 8-byte values for each 32-bit field that holds 0xFFFFFFFF, in order
      int e = p + 46 + nameLength;
      int extraEnd = e + extraLength;
      while (e + 4 <= extraEnd) {
        int id = cd.getShort(e) & 0xFFFF;
        int len = cd.getShort(e + 2) & 0xFFFF;
        if (id == 1) {
          int q = e + 4;
          if (size == U32_MAX && q + 8 <= e + 4 + len) {
            size = cd.getLong(q);
            q += 8;
          }
          if (compressed == U32_MAX && q + 8 <= e + 4 + len) {
            compressed = cd.getLong(q);
            q += 8;
          }
          if (localOffset == U32_MAX && q + 8 <= e + 4 + len) {
            localOffset = cd.getLong(q);
          }
        }
        e += 4 + len;
      }
      if ((flags & 1) != 0) {
        throw new TensorFormatException(path, "zip entry '" + name + "' is encrypted");
      }
      if (localOffset < 0 || localOffset + 30 > fileSize) {
        throw new TensorFormatException(
            path, "zip entry '" + name + "' has a local header " + "outside the file (truncated?)");
      }
      ByteBuffer local = read(channel, localOffset, 30);
      if (local.getInt(0) != LOCAL_SIG) {
        throw new TensorFormatException(
            path, "zip entry '" + name + "' has a corrupt local " + "header");
      }
      long dataStart =
          localOffset + 30 + (local.getShort(26) & 0xFFFF) + (local.getShort(28) & 0xFFFF);
      if (compressed < 0 || size < 0 || dataStart + compressed > fileSize) {
        throw new TensorFormatException(
            path, "zip entry '" + name + "' runs past the end of " + "the file (truncated?)");
      }
      out.put(name, new Entry(name, method, compressed, size, dataStart));
      p += 46 + nameLength + extraLength + commentLength;
    }
    return Collections.unmodifiableMap(out);
  }

  /** Reads {@code length} bytes at {@code position}, little-endian. */
  static ByteBuffer read(FileChannel channel, long position, int length) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      if (channel.read(b, position + b.position()) < 0) {
        throw new IOException("unexpected end of file");
      }
    }
    return b.flip().order(ByteOrder.LITTLE_ENDIAN);
  }
}
