package qdm.tables;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroSchemaConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import qdm.QdmException;

/**
 * An output table read without Spark, through parquet-avro: the Parquet files under a table
 * directory (or one file), partition columns taken from {@code name=value} directory names, rows as
 * Avro records of the table's schema ({@link AvroSchemas}; for a table QDM does not know, the
 * files' own schema plus string partition columns).
 */
public final class ParquetTable {
  private final Path root;
  private final String name;
  private final List<Path> files;
  private final Configuration conf;
  private final Schema schema;
  private final List<String> partitionColumns;

  private ParquetTable(
      Path root,
      String name,
      List<Path> files,
      Configuration conf,
      Schema schema,
      List<String> partitionColumns) {
    this.root = root;
    this.name = name;
    this.files = files;
    this.conf = conf;
    this.schema = schema;
    this.partitionColumns = partitionColumns;
  }

  /**
   * Opens a table directory, a partition directory inside one ({@code codes/condition=fp}) or a
   * single Parquet file; any Hadoop filesystem path ({@code file:}, {@code hdfs:}, ...).
   */
  public static ParquetTable open(String location, Configuration hadoop) {
    Configuration conf = new Configuration(hadoop);
    // Spark writes arrays as standard 3-level lists (list / element): read them as Avro arrays
    // of the element type, not as arrays of one-field records (parquet-avro's old default)
    conf.setBoolean(AvroSchemaConverter.ADD_LIST_ELEMENT_RECORDS, false);
    Path given =
        new Path(
            location.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")
                ? location
                : java.nio.file.Path.of(location).toAbsolutePath().normalize().toUri().toString());
    try {
      FileSystem fs = given.getFileSystem(conf);
      if (!fs.exists(given)) {
        throw new QdmException(location + ": no such table directory or file");
      }
      List<Path> files = new ArrayList<>();
      collect(fs, fs.getFileStatus(given), files);
      if (files.isEmpty()) {
        throw new QdmException(
            location
                + ": no Parquet files in it (an output table is a "
                + "directory of part-*.parquet files, e.g. <output>/<run>/conditions)");
      }
      files.sort(Comparator.comparing(Path::toString));
      Path root = fs.getFileStatus(given).isDirectory() ? given : given.getParent();
      while (root.getName().contains("=") && root.getParent() != null) {
        root = root.getParent();
      }
      String name = root.getName();
      Optional<Schema> known = AvroSchemas.of(name);
      Schema schema;
      List<String> parts;
      if (known.isPresent()) {
        schema = known.get();
        parts = AvroSchemas.partitionColumns(schema);
      } else {
        parts = new ArrayList<>(partitionsOf(root, files.get(0)).keySet());
        schema = fromFile(files.get(0), conf, parts, name);
      }
      return new ParquetTable(root, name, files, conf, schema, parts);
    } catch (IOException e) {
      throw new QdmException(location + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static void collect(FileSystem fs, FileStatus s, List<Path> out) throws IOException {
    String n = s.getPath().getName();
    if (n.startsWith("_") || n.startsWith(".")) {
      return;
    }
    if (s.isDirectory()) {
      for (FileStatus c : fs.listStatus(s.getPath())) {
        collect(fs, c, out);
      }
    } else if (n.endsWith(".parquet")) {
      out.add(s.getPath());
    }
  }

  /** The file's own schema (as parquet-avro converts it) with string partition columns. */
  private static Schema fromFile(Path file, Configuration conf, List<String> parts, String name)
      throws IOException {
    Schema own;
    try {
      own = new AvroSchemaConverter(conf).convert(footer(file, conf));
    } catch (IOException | RuntimeException e) {
      throw unreadable(file, e);
    }
    SchemaBuilder.FieldAssembler<Schema> b =
        SchemaBuilder.record(name.replaceAll("[^A-Za-z0-9_]", "_"))
            .namespace("qdm.tables.unknown")
            .fields();
    for (String p : parts) {
      if (own.getField(p) == null) {
        b = b.requiredString(p);
      }
    }
    for (Schema.Field f : own.getFields()) {
      b = b.name(f.name()).type(f.schema()).noDefault();
    }
    return b.endRecord();
  }

  private static MessageType footer(Path file, Configuration conf) throws IOException {
    try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(file, conf))) {
      return r.getFooter().getFileMetaData().getSchema();
    }
  }

  /** {@code name=value} directories between the table root and {@code file}, outermost first. */
  static Map<String, String> partitionsOf(Path root, Path file) {
    List<String> names = new ArrayList<>();
    for (Path p = file.getParent();
        p != null && !p.equals(root) && p.depth() > root.depth();
        p = p.getParent()) {
      names.add(0, p.getName());
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String n : names) {
      int eq = n.indexOf('=');
      if (eq > 0) {
        out.put(n.substring(0, eq), unescape(n.substring(eq + 1)));
      }
    }
    return out;
  }

  /** Hive-style partition values escape special characters as %XX. */
  private static String unescape(String v) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == '%' && i + 2 < v.length()) {
        s.append((char) Integer.parseInt(v.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        s.append(c);
      }
    }
    return s.toString();
  }

  public String name() {
    return name;
  }

  public Path root() {
    return root;
  }

  public List<Path> files() {
    return List.copyOf(files);
  }

  /** The table's schema: partition columns included, in the table's column order. */
  public Schema schema() {
    return schema;
  }

  public List<String> partitionColumns() {
    return List.copyOf(partitionColumns);
  }

  /** Rows in all files, from the Parquet footers (no data read). */
  public long rowCount() {
    long n = 0;
    for (Path f : files) {
      try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(f, conf))) {
        n += r.getRecordCount();
      } catch (IOException | RuntimeException e) {
        throw unreadable(f, e);
      }
    }
    return n;
  }

  /** The error for a file that is not readable Parquet (truncated, overwritten, not Parquet). */
  private static QdmException unreadable(Path file, Exception e) {
    String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return new QdmException(
        file
            + ": not a readable Parquet file (truncated or corrupt?): "
            + why.lines().findFirst().orElse(why),
        e);
  }

  /** Every row, file by file in path order, as records of {@link #schema()}. */
  public Iterator<GenericRecord> rows() {
    return new Iterator<>() {
      int next = 0;
      ParquetReader<GenericRecord> reader;
      Map<String, String> partition;
      GenericRecord pending;
      Path current;

      @Override
      public boolean hasNext() {
        try {
          while (pending == null) {
            if (reader != null) {
              GenericRecord r = reader.read();
              if (r != null) {
                pending = complete(r, partition);
                break;
              }
              reader.close();
              reader = null;
            }
            if (next >= files.size()) {
              return false;
            }
            current = files.get(next++);
            partition = partitionsOf(root, current);
            reader = open(current);
          }
          return true;
        } catch (QdmException e) {
          throw e;
        } catch (IOException | RuntimeException e) {
          throw unreadable(current, e);
        }
      }

      @Override
      public GenericRecord next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        GenericRecord r = pending;
        pending = null;
        return r;
      }
    };
  }

  /**
   * A reader of one file with the file's own schema (Spark may store a column the table declares
   * non-null as optional; a null in such a column is reported by {@link #complete}).
   */
  private ParquetReader<GenericRecord> open(Path f) throws IOException {
    return AvroParquetReader.<GenericRecord>builder(HadoopInputFile.fromPath(f, conf))
        .withConf(conf)
        .build();
  }

  /** A record of the table schema: the file's columns plus the partition values. */
  private GenericRecord complete(GenericRecord fromFile, Map<String, String> partition) {
    GenericData.Record out = new GenericData.Record(schema);
    for (Schema.Field f : schema.getFields()) {
      Schema.Field in = fromFile.getSchema().getField(f.name());
      if (in != null) {
        Object v = fromFile.get(in.pos());
        if (v == null && !nullable(f.schema())) {
          throw new QdmException(
              root
                  + ": column '"
                  + f.name()
                  + "' holds a null, but table "
                  + name
                  + " declares it non-null (schema "
                  + schema.getFullName()
                  + ")");
        }
        out.put(f.pos(), v instanceof CharSequence cs ? cs.toString() : v);
      } else if (partition.containsKey(f.name())) {
        out.put(f.pos(), typed(f.schema(), partition.get(f.name())));
      } else {
        throw new QdmException(
            root
                + ": column '"
                + f.name()
                + "' is neither in the file nor "
                + "a name=value directory");
      }
    }
    return out;
  }

  private static boolean nullable(Schema s) {
    return s.getType() == Schema.Type.NULL
        || s.getType() == Schema.Type.UNION
            && s.getTypes().stream().anyMatch(x -> x.getType() == Schema.Type.NULL);
  }

  private static Object typed(Schema s, String v) {
    Schema t =
        s.getType() == Schema.Type.UNION
            ? s.getTypes().stream()
                .filter(x -> x.getType() != Schema.Type.NULL)
                .findFirst()
                .orElse(s)
            : s;
    return switch (t.getType()) {
      case INT -> Integer.parseInt(v);
      case LONG -> Long.parseLong(v);
      case DOUBLE -> Double.parseDouble(v);
      case FLOAT -> Float.parseFloat(v);
      case BOOLEAN -> Boolean.parseBoolean(v);
      default -> v;
    };
  }
}
