package qdm.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import qdm.QdmException;

/**
 * Reads a corpus as an ordered sequence of documents, from any filesystem Spark reads.
 *
 * <p>Formats: {@code text} (each file is one document), {@code jsonl} (each line an object whose
 * text field is a document) and {@code parquet} (each row's text column is a document; this is how
 * WikiText and most hub datasets are stored). Order is deterministic: paths in the given order,
 * the files of a directory by name, rows in file order. Hidden files ({@code _} or {@code .}) are
 * skipped.
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
      Iterator<Row> rows = java.util.Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!rows.hasNext() && next < files.size()) {
          rows = read(files.get(next++)).toLocalIterator();
        }
        return rows.hasNext();
      }

      @Override
      public String next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        Row r = rows.next();
        return r.isNullAt(0) ? "" : r.getString(0);
      }
    };
  }

  private Dataset<Row> read(Path file) {
    String f = formatOf(file);
    String p = file.toString();
    Dataset<Row> rows = switch (f) {
      case "text" -> spark.read().option("wholetext", true).text(p);
      case "jsonl" -> spark.read().json(p);
      case "parquet" -> spark.read().parquet(p);
      default -> throw new QdmException("corpus.format '" + f + "' is not text, jsonl or parquet");
    };
    String column = f.equals("text") ? "value" : textColumn;
    StructField field;
    try {
      field = rows.schema().apply(column);
    } catch (IllegalArgumentException e) {
      throw new QdmException(p + ": no column '" + column + "' (columns: "
          + String.join(", ", rows.schema().fieldNames()) + "); set qdm.corpus.text-column");
    }
    if (!field.dataType().equals(DataTypes.StringType)) {
      throw new QdmException(p + ": column '" + column + "' is " + field.dataType().simpleString()
          + ", expected a string");
    }
    return rows.select(column);
  }
}
