package qdm.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.NoSuchElementException;
import qdm.QdmException;
import qdm.io.JsonErrors;

/**
 * The documents of one corpus file, decoded strictly: a corpus that is not what it claims to be
 * fails with the file and the place, instead of being audited as something else.
 *
 * <p>Text must be valid UTF-8 without NUL bytes (a NUL means a binary file: an archive, a Parquet
 * file with a {@code .txt} name, a model checkpoint), and is never repaired with replacement
 * characters. JSON lines must each be one JSON object whose text field is a string; a malformed
 * line, a line without the field or with a null or non-string value fails with its line number,
 * since skipping it would audit fewer tokens than the user asked for. Lines that hold only
 * whitespace (a trailing newline) are not documents and are passed over.
 */
public final class CorpusText {
  private CorpusText() {}

  /** The whole of a text file as one document. */
  public static String decodeText(byte[] bytes, String file) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == 0) {
        throw new QdmException(
            file
                + ": byte offset "
                + i
                + " is a NUL byte: not a text file "
                + "(binary data?); a text corpus must be UTF-8 text (set qdm.corpus.format for "
                + "jsonl or parquet files)");
      }
    }
    return decode(bytes, 0, bytes.length, file, 0, "");
  }

  /**
   * Strict UTF-8 of {@code bytes[from, from + length)}; {@code base} is the byte offset of {@code
   * from} in the file and {@code where} extra context (a line number) for messages.
   */
  static String decode(byte[] bytes, int from, int length, String file, long base, String where) {
    CharsetDecoder d =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes, from, length);
    CharBuffer out = CharBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 8, (long) length + 16));
    CoderResult r = d.decode(in, out, true);
    if (r.isUnderflow()) {
      r = d.flush(out);
    }
    if (r.isError()) {
      long offset = base + in.position() - from;
      throw new QdmException(
          file
              + ": byte offset "
              + offset
              + where
              + " is not valid UTF-8 "
              + "(byte 0x"
              + String.format("%02x", bytes[in.position()] & 0xff)
              + "); a text "
              + "corpus must be UTF-8: convert it (iconv -f <encoding> -t utf-8) or remove the file");
    }
    out.flip();
    return out.toString();
  }

  /**
   * The {@code field} of every JSON object line of {@code in}, lazily. {@code in} is closed when
   * the last line has been read.
   */
  public static Iterator<String> jsonLines(InputStream in, String file, String field) {
    return new Iterator<>() {
      final ByteArrayOutputStream line = new ByteArrayOutputStream();
      long offset = 0; // of the next line's first byte
      long lineNo = 0;
      boolean done = false;
      String pending;

      @Override
      public boolean hasNext() {
        while (pending == null && !done) {
          pending = nextDocument();
        }
        return pending != null;
      }

      @Override
      public String next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        String s = pending;
        pending = null;
        return s;
      }

      /** The next line's document, null for a blank line or at the end. */
      private String nextDocument() {
        line.reset();
        int b;
        try {
          while ((b = in.read()) >= 0 && b != '\n') {
            line.write(b);
          }
          if (b < 0) {
            done = true;
            in.close();
          }
        } catch (IOException e) {
          throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (done && line.size() == 0) {
          return null;
        }
        lineNo++;
        byte[] bytes = line.toByteArray();
        long start = offset;
        offset += bytes.length + 1;
        String where = " (line " + lineNo + ")";
        for (int i = 0; i < bytes.length; i++) {
          if (bytes[i] == 0) {
            throw new QdmException(
                file
                    + ": byte offset "
                    + (start + i)
                    + where
                    + " is a NUL "
                    + "byte: not a JSON lines file (binary data?)");
          }
        }
        String text = decode(bytes, 0, bytes.length, file, start, where);
        if (text.isBlank()) {
          return null;
        }
        return field(text, file + ":" + lineNo, field);
      }
    };
  }

  /** The string {@code field} of one JSON object line; {@code at} is file:line. */
  static String field(String line, String at, String field) {
    JsonElement e;
    try (JsonReader r = new JsonReader(new StringReader(line))) {
      r.setStrictness(Strictness.STRICT);
      e = JsonParser.parseReader(r);
      if (r.peek() != JsonToken.END_DOCUMENT) {
        throw new QdmException(
            at
                + ": more than one JSON value on the line (a JSON lines file "
                + "has one object per line)");
      }
    } catch (JsonParseException | IOException ex) {
      throw new QdmException(
          at
              + ": not valid JSON: "
              + JsonErrors.describe(
                  ex instanceof RuntimeException re ? re : new RuntimeException(ex.getMessage())));
    }
    if (!e.isJsonObject()) {
      throw new QdmException(
          at
              + ": expected a JSON object with a \""
              + field
              + "\" string, got "
              + abbreviate(e.toString()));
    }
    JsonObject o = e.getAsJsonObject();
    JsonElement v = o.get(field);
    if (v == null) {
      throw new QdmException(
          at
              + ": no field \""
              + field
              + "\" (fields: "
              + String.join(", ", o.keySet())
              + "); set qdm.corpus.text-column to the text field");
    }
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
      throw new QdmException(
          at + ": field \"" + field + "\" is " + abbreviate(v.toString()) + ", expected a string");
    }
    return v.getAsString();
  }

  private static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
