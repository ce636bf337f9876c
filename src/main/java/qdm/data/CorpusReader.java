package qdm.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import qdm.QdmException;

/**
 * Reads a corpus as an ordered sequence of documents, from any filesystem Spark reads.
 *
 * <p>Formats: {@code text} (each file is one document, strict UTF-8), {@code jsonl} (each line an
 * object whose text field is a document; see {@link CorpusText} for what is refused) and {@code
 * parquet} (each row's text column is a document; this is how WikiText and most hub datasets are
 * stored). Order is deterministic: paths in the given order, the files of a directory by name, rows
 * in file order. Hidden files ({@code _} or {@code .}) are skipped.
 */
public final class CorpusReader {
  private final SparkSession spark;
  private final String format;
  private final String textColumn;

  public CorpusReader(SparkSession spark, String format, String textColumn) {
    this.spark = spark;
    this.format = format;
    this.textColumn = textColumn;
  }

  /** The corpus files, in reading order; fails naming a path that does not exist. */
  public List<Path> files(List<String> paths) {
    List<Path> out = new ArrayList<>();
    for (String p : paths) {
      Path path = new Path(p);
      try {
        FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
        if (!fs.exists(path)) {
          throw new QdmException(p + ": corpus path not found");
        }
        FileStatus status = fs.getFileStatus(path);
        if (status.isDirectory()) {
          FileStatus[] children = fs.listStatus(path);
          Arrays.sort(children, Comparator.comparing(s -> s.getPath().getName()));
          for (FileStatus c : children) {
            String name = c.getPath().getName();
            if (c.isFile() && !name.startsWith("_") && !name.startsWith(".")) {
              out.add(c.getPath());
            }
          }
        } else {
          out.add(status.getPath());
        }
      } catch (IOException e) {
        throw new UncheckedIOException(p + ": cannot list: " + e.getMessage(), e);
      }
    }
    if (out.isEmpty()) {
      throw new QdmException("corpus paths " + paths + " hold no files");
    }
    return out;
  }

  /** The format of a file: the configured one, or by extension when {@code auto}. */
  public String formatOf(Path file) {
    if (!format.equals("auto")) {
      return format;
    }
    String name = file.getName().toLowerCase(Locale.ROOT);
    if (name.endsWith(".parquet")) {
      return "parquet";
    }
    if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson")) {
      return "jsonl";
    }
    return "text";
  }

  /** The documents of all files, lazily, in order. */
  public Iterator<String> documents(List<String> paths) {
    List<Path> files = files(paths);
    return new Iterator<>() {
      int next = 0;
      Iterator<String> current = java.util.Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && next < files.size()) {
          current = read(files.get(next++));
        }
        return current.hasNext();
      }

      @Override
      public String next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        return current.next();
      }
    };
  }

  /**
   * The documents of one file. Text and JSON lines are read here, strictly, through the Hadoop
   * filesystem (decompressing {@code .gz}, {@code .bz2}... as Spark would): see {@link CorpusText}.
   * Parquet is read through Spark; a null text is an error naming the row.
   */
  private Iterator<String> read(Path file) {
    String f = formatOf(file);
    String p = file.toString();
    return switch (f) {
      case "text" -> List.of(CorpusText.decodeText(bytes(file), p)).iterator();
      case "jsonl" -> CorpusText.jsonLines(open(file), p, textColumn);
      case "parquet" -> parquet(file);
      default -> throw new QdmException("corpus.format '" + f + "' is not text, jsonl or parquet");
    };
  }

  private InputStream open(Path file) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    try {
      InputStream in = file.getFileSystem(conf).open(file);
      CompressionCodec codec = new CompressionCodecFactory(conf).getCodec(file);
      return new BufferedInputStream(codec == null ? in : codec.createInputStream(in), 1 << 16);
    } catch (IOException e) {
      throw new QdmException(file + ": cannot read the corpus file: " + e.getMessage(), e);
    }
  }

  private byte[] bytes(Path file) {
    try (InputStream in = open(file)) {
      return in.readAllBytes();
    } catch (OutOfMemoryError e) {
      throw new QdmException(
          file
              + ": too large to read as one text document (a text file is "
              + "one document; split it, or use jsonl or parquet with one document per row)");
    } catch (IOException e) {
      throw new QdmException(file + ": cannot read the corpus file: " + e.getMessage(), e);
    }
  }

  private Iterator<String> parquet(Path file) {
    String p = file.toString();
    Dataset<Row> rows;
    try {
      rows = spark.read().parquet(p);
    } catch (RuntimeException e) {
      throw new QdmException(
          p
              + ": not a readable Parquet file: "
              + String.valueOf(e.getMessage()).lines().findFirst().orElse(""),
          e);
    }
    StructField field;
    try {
      field = rows.schema().apply(textColumn);
    } catch (IllegalArgumentException e) {
      throw new QdmException(
          p
              + ": no column '"
              + textColumn
              + "' (columns: "
              + String.join(", ", rows.schema().fieldNames())
              + "); set qdm.corpus.text-column");
    }
    if (!field.dataType().equals(DataTypes.StringType)) {
      throw new QdmException(
          p
              + ": column '"
              + textColumn
              + "' is "
              + field.dataType().simpleString()
              + ", expected a string");
    }
    Iterator<Row> it = rows.select(textColumn).toLocalIterator();
    return new Iterator<>() {
      long row = 0;

      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public String next() {
        Row r = it.next();
        if (r.isNullAt(0)) {
          throw new QdmException(
              p
                  + ": row "
                  + row
                  + " (0-based) has a null '"
                  + textColumn
                  + "' (a "
                  + "document must be a string; filter the nulls out of the file)");
        }
        row++;
        return r.getString(0);
      }
    };
  }
}
