package qdm.tables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import qdm.spark.MatchedSearch;
import qdm.testing.Cli;
import qdm.testing.LocalSpark;
import qdm.testing.TinyRun;

/**
 * The Avro schemas of src/main/avro against the Spark schemas the job writes with (names, order,
 * types, nullability, partition columns), and the non-Spark reader behind {@code qdm inspect}
 * against Spark's own reading of a real run's tables ({@link TinyRun}).
 */
class AvroSchemasTest {
  /** The Spark schema of every output table, as the job writes it. */
  static final Map<String, StructType> SPARK = new LinkedHashMap<>();

  static final Map<String, List<String>> PARTITIONS =
      Map.of(
          "codes",
          List.of("sae", "condition"),
          "window_sums",
          List.of("sae", "condition"),
          "token_nll",
          List.of("condition", "kind"),
          "matched_search",
          List.of("condition"));

  static {
    SPARK.put("windows", Schemas.WINDOWS);
    SPARK.put("codes", Schemas.CODES);
    SPARK.put("token_nll", Schemas.TOKEN_NLL);
    SPARK.put("matched_search", MatchedSearch.SCHEMA);
    SPARK.put("feature_sums", Schemas.FEATURE_SUMS);
    SPARK.put("sae_fidelity", Schemas.SAE_FIDELITY);
    SPARK.put("window_sums", Schemas.WINDOW_SUMS);
    SPARK.putAll(AnalysisSchemas.publishedByName());
    SPARK.put("stability_windows", qdm.analysis.Stability.WINDOWS);
  }

  /** The Avro type a Spark column must have, written independently of the .avsc files. */
  static String expected(DataType t, boolean nullable) {
    String base;
    if (t instanceof ArrayType a) {
      base = "array<" + expected(a.elementType(), a.containsNull()) + ">";
    } else if (t.equals(DataTypes.LongType)) {
      base = "long";
    } else if (t.equals(DataTypes.IntegerType)) {
      base = "int";
    } else if (t.equals(DataTypes.StringType)) {
      base = "string";
    } else if (t.equals(DataTypes.DoubleType)) {
      base = "double";
    } else if (t.equals(DataTypes.FloatType)) {
      base = "float";
    } else if (t.equals(DataTypes.BooleanType)) {
      base = "boolean";
    } else {
      throw new AssertionError("no Avro mapping for " + t);
    }
    return nullable ? "union<null," + base + ">" : base;
  }

  static String actual(Schema s) {
    return switch (s.getType()) {
      case UNION ->
          "union<"
              + String.join(",", s.getTypes().stream().map(AvroSchemasTest::actual).toList())
              + ">";
      case ARRAY -> "array<" + actual(s.getElementType()) + ">";
      default -> s.getType().getName();
    };
  }

  @Test
  void everyAvroSchemaMatchesTheSparkSchemaOfItsTable() {
    assertEquals(List.copyOf(SPARK.keySet()), AvroSchemas.TABLES);
    for (Map.Entry<String, StructType> e : SPARK.entrySet()) {
      Schema avro = AvroSchemas.of(e.getKey()).orElseThrow();
      StructField[] spark = e.getValue().fields();
      List<Schema.Field> fields = avro.getFields();
      assertEquals(spark.length, fields.size(), e.getKey() + ": column count");
      for (int i = 0; i < spark.length; i++) {
        String where = e.getKey() + "." + spark[i].name();
        assertEquals(spark[i].name(), fields.get(i).name(), e.getKey() + " column " + i);
        assertEquals(
            expected(spark[i].dataType(), spark[i].nullable()),
            actual(fields.get(i).schema()),
            where);
        if (spark[i].nullable()) {
          assertTrue(
              fields.get(i).hasDefaultValue()
                  && fields.get(i).defaultVal() == org.apache.avro.JsonProperties.NULL_VALUE,
              where + " defaults to null");
        }
      }
      assertEquals(
          PARTITIONS.getOrDefault(e.getKey(), List.of()),
          AvroSchemas.partitionColumns(avro),
          e.getKey() + ": partition columns");
      assertEquals(e.getKey(), avro.getProp("qdm.table"));
      assertEquals(
          Schemas.VERSION,
          ((Number) avro.getObjectProp("qdm.schema_version")).intValue(),
          e.getKey() + ": schema version");
    }
  }

  @Test
  void everyTableOfARunHasASchema() throws IOException {
    TinyRun run = TinyRun.get();
    try (Stream<Path> s = Files.list(run.runDir())) {
      List<String> tables =
          s.filter(Files::isDirectory)
              .map(p -> p.getFileName().toString())
              .filter(n -> !n.startsWith("_") && !n.equals("report"))
              .sorted()
              .toList();
      assertEquals(AvroSchemas.TABLES.stream().sorted().toList(), tables);
    }
  }

  /** A value as both readers should agree on it: numbers, strings, lists. */
  static Object normalize(Object v) {
    if (v instanceof scala.collection.Seq<?> seq) {
      v = scala.jdk.javaapi.CollectionConverters.asJava(seq);
    }
    if (v instanceof List<?> l) {
      return l.stream().map(AvroSchemasTest::normalize).toList();
    }
    return v instanceof CharSequence cs ? cs.toString() : v;
  }

  @Test
  void theNonSparkReaderGivesWhatSparkReads() {
    TinyRun run = TinyRun.get();
    for (String t : AvroSchemas.TABLES) {
      ParquetTable table = ParquetTable.open(run.table(t).toString(), new Configuration());
      assertEquals(AvroSchemas.of(t).orElseThrow(), table.schema(), t);
      List<Row> spark =
          LocalSpark.get()
              .read()
              .schema(SPARK.get(t))
              .parquet(run.table(t).toString())
              .collectAsList();
      assertEquals(spark.size(), table.rowCount(), t + ": row count from the footers");
      List<String> expected = new ArrayList<>();
      for (Row r : spark) {
        List<Object> values = new ArrayList<>();
        for (StructField f : SPARK.get(t).fields()) { // Spark puts partition columns last
          values.add(normalize(r.get(r.fieldIndex(f.name()))));
        }
        expected.add(values.toString());
      }
      List<String> actual = new ArrayList<>();
      for (Iterator<GenericRecord> it = table.rows(); it.hasNext(); ) {
        GenericRecord g = it.next();
        List<Object> values = new ArrayList<>();
        for (int i = 0; i < g.getSchema().getFields().size(); i++) {
          values.add(normalize(g.get(i)));
        }
        actual.add(values.toString());
      }
      if (t.equals("predictor_roc")) { // a curve exists exactly when some AUC does
        long withAuc =
            LocalSpark.get()
                .read()
                .parquet(run.table("predictor").toString())
                .where("auc_mean IS NOT NULL")
                .count();
        assertEquals(withAuc > 0, spark.size() > 0, "predictor_roc rows iff an AUC exists");
      } else {
        assertTrue(spark.size() > 0, t + " has rows");
      }
      assertEquals(expected.stream().sorted().toList(), actual.stream().sorted().toList(), t);
    }
  }

  @Test
  void inspectPrintsSchemaRowCountAndFirstRows() {
    TinyRun run = TinyRun.get();
    Cli.Result r = Cli.run("inspect", run.table("conditions").toString(), "--rows", "3");
    assertEquals(0, r.exit(), r.all());
    assertTrue(r.out().contains("schema qdm.tables.Conditions, version 1"), r.all());
    assertTrue(r.out().contains("rows: " + TinyRun.CONDITIONS.size()), r.all());
    assertTrue(r.out().matches("(?s).*survived_pct +double\\?.*"), r.all());
    assertEquals(3, r.out().lines().filter(l -> l.startsWith("  {\"sae\"")).count(), r.all());

    long fp =
        LocalSpark.get()
            .read()
            .parquet(run.table("codes").toString())
            .where("condition = 'fp'")
            .count();
    Cli.Result part =
        Cli.run(
            "inspect",
            run.table("codes/sae=blocks.1.hook_resid_post/condition=fp").toString(),
            "--rows",
            "1");
    assertEquals(0, part.exit(), part.all());
    assertTrue(part.out().contains("partitioned by sae, condition"), part.all());
    assertTrue(
        part.out().contains(String.format(java.util.Locale.ROOT, "rows: %,d", fp)), part.all());
    assertTrue(
        part.out().contains("{\"sae\": \"blocks.1.hook_resid_post\", \"condition\": \"fp\""),
        part.all());

    Cli.Result missing = Cli.run("inspect", run.table("nope").toString());
    assertEquals(2, missing.exit());
    assertTrue(missing.err().contains("no such table directory or file"), missing.all());
    Cli.Result report = Cli.run("inspect", run.table("report").toString());
    assertEquals(2, report.exit());
    assertTrue(report.err().contains("no Parquet files"), report.all());
  }
}
