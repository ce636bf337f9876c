package qdm.demo;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import qdm.QdmException;

/**
 * Reads the regular files of a gzipped tar archive (an npm package tarball) into memory. Only what
 * npm writes is supported: ustar headers, with the name prefix field.
 */
public final class TarGz {
  private static final int BLOCK = 512;

  private TarGz() {}

  /** Entry name to content, in archive order; {@code source} names the archive in errors. */
  public static Map<String, byte[]> read(InputStream gz, String source) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    try (InputStream in = new GZIPInputStream(gz)) {
      byte[] header = new byte[BLOCK];
      while (readFully(in, header)) {
        if (isZero(header)) {
          break; // end-of-archive marker
        }
        String name = field(header, 0, 100);
        String prefix = field(header, 345, 155);
        if (!prefix.isEmpty()) {
          name = prefix + "/" + name;
        }
        String sizeField = field(header, 124, 12).trim();
        long size = sizeField.isEmpty() ? 0 : Long.parseLong(sizeField, 8);
        char type = (char) header[156];
        byte[] data = new byte[Math.toIntExact(size)];
        if (!readFully(in, data)) {
          throw new QdmException(source + ": truncated tar entry " + name);
        }
        long pad = (BLOCK - size % BLOCK) % BLOCK;
        in.skipNBytes(pad);
        if (type == '0' || type == 0) {
          files.put(name, data);
        }
      }
    } catch (IOException | NumberFormatException e) {
      throw new QdmException(source + ": not a readable .tgz archive: " + e.getMessage(), e);
    }
    return files;
  }

  private static boolean readFully(InputStream in, byte[] buf) throws IOException {
    int n = in.readNBytes(buf, 0, buf.length);
    return n == buf.length;
  }

  private static boolean isZero(byte[] block) {
    for (byte b : block) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  private static String field(byte[] header, int offset, int length) {
    int end = offset;
    while (end < offset + length && header[end] != 0) {
      end++;
    }
    return new String(header, offset, end - offset, StandardCharsets.US_ASCII);
  }
}
