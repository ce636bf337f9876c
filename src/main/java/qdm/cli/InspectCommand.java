package qdm.cli;

import java.io.PrintStream;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import qdm.QdmException;
import qdm.spark.RunLayout;
import qdm.spark.RunState;
import qdm.tables.ParquetTable;

/**
 * {@code qdm inspect TABLE}: the schema, row count and first rows of any output table, read with
 * parquet-avro (no Spark session). A quick look at a run's outputs, and a check that they read in a
 * standard non-Spark Parquet reader.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Print the schema, row count and first rows of an output table, without Spark.",
      "TABLE is a table directory (e.g. out/demo/conditions), a partition of one",
      "(out/demo/codes/sae=NAME/condition=fp) or a Parquet file; any Hadoop filesystem URI."
    })
final class InspectCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "TABLE", description = "Table directory or file.")
  String table;

  @Option(
      names = "--rows",
      paramLabel = "N",
      defaultValue = "10",
      description = "Rows to print (default ${DEFAULT-VALUE}).")
  int rows;

  @Override
  public Integer call() {
    if (rows < 0) {
      throw new QdmException("--rows " + rows + ": expected 0 or more");
    }
    Configuration hadoop = new Configuration();
    ParquetTable t = ParquetTable.open(table, hadoop);
    t.rowCount(); // reads every footer first: a corrupt file fails before anything is printed
    RunState.runOf(table, hadoop)
        .map(root -> RunState.of(RunLayout.at(root, hadoop)))
        .filter(s -> !s.complete())
        .ifPresent(s -> System.err.println("qdm inspect: warning: run " + s.describe()));
    print(t, rows, System.out);
    return 0;
  }

  static void print(ParquetTable t, int rows, PrintStream out) {
    Schema s = t.schema();
    Object version = s.getObjectProp("qdm.schema_version");
    out.printf(
        Locale.ROOT,
        "table %s at %s: %d file(s)%s%n",
        t.name(),
        t.root(),
        t.files().size(),
        t.partitionColumns().isEmpty()
            ? ""
            : ", partitioned by " + String.join(", ", t.partitionColumns()));
    out.printf(
        Locale.ROOT,
        "schema %s%s:%n",
        s.getFullName(),
        version == null ? " (from the files: not a QDM table)" : ", version " + version);
    int width = s.getFields().stream().mapToInt(f -> f.name().length()).max().orElse(4);
    for (Schema.Field f : s.getFields()) {
      out.printf(
          Locale.ROOT,
          "  %-" + width + "s  %s%s%n",
          f.name(),
          type(f.schema()),
          t.partitionColumns().contains(f.name()) ? "  (partition directory)" : "");
    }
    out.printf(Locale.ROOT, "rows: %,d%n", t.rowCount());
    if (rows > 0) {
      out.printf(Locale.ROOT, "first %d row(s):%n", rows);
      Iterator<GenericRecord> it = t.rows();
      for (int i = 0; i < rows && it.hasNext(); i++) {
        out.println("  " + GenericData.get().toString(it.next()));
      }
    }
  }

  /** A compact type name: {@code long}, {@code double?} (nullable), {@code array<int>}. */
  static String type(Schema s) {
    return switch (s.getType()) {
      case UNION ->
          s.getTypes().stream()
                  .filter(x -> x.getType() != Schema.Type.NULL)
                  .map(InspectCommand::type)
                  .findFirst()
                  .orElse("null")
              + "?";
      case ARRAY -> "array<" + type(s.getElementType()) + ">";
      case MAP -> "map<string, " + type(s.getValueType()) + ">";
      case RECORD -> s.getName();
      default -> s.getType().getName();
    };
  }
}
