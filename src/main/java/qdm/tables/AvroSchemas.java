package qdm.tables;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.avro.Schema;

/**
 * The Avro schemas of QDM's output tables ({@code src/main/avro/*.avsc}, on the classpath under
 * {@code qdm/avro/}): the same columns, order, types and nullability as the Spark schemas in {@link
 * Schemas} and {@link AnalysisSchemas} (a test keeps them in step), for tools that read the Parquet
 * outputs without Spark. Each schema names its table ({@code qdm.table}), its version ({@code
 * qdm.schema_version}) and the columns that live in directory names ({@code qdm.partition_columns},
 * e.g. {@code codes/condition=fp/}).
 */
public final class AvroSchemas {
  /** Every table with a schema, in the order of the data flow. */
  public static final List<String> TABLES =
      List.of(
          "windows",
          "codes",
          "token_nll",
          "matched_search",
          "feature_sums",
          "sae_fidelity",
          "window_sums",
          "feature_stats",
          "feature_survival",
          "conditions",
          "quartiles",
          "overlap",
          "predictor",
          "predictor_roc",
          "stability",
          "stability_windows");

  private AvroSchemas() {}

  /** The schema of {@code table}, if it is one of {@link #TABLES}. */
  public static Optional<Schema> of(String table) {
    if (!TABLES.contains(table)) {
      return Optional.empty();
    }
    try (InputStream in = AvroSchemas.class.getResourceAsStream("/qdm/avro/" + table + ".avsc")) {
      if (in == null) {
        throw new IllegalStateException("qdm/avro/" + table + ".avsc is not on the classpath");
      }
      return Optional.of(new Schema.Parser().parse(in));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The columns of {@code schema} stored as {@code name=value} directories. */
  public static List<String> partitionColumns(Schema schema) {
    Object p = schema.getObjectProp("qdm.partition_columns");
    List<String> out = new ArrayList<>();
    if (p instanceof List<?> l) {
      l.forEach(x -> out.add(String.valueOf(x)));
    }
    return out;
  }
}
