package qdm.analysis;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import qdm.tables.Schemas;

/** The configured conditions as a small table, in report order. */
final class Conditions {
  private Conditions() {}

  static final StructType SCHEMA =
      new StructType()
          .add(Schemas.field("condition", DataTypes.StringType))
          .add(Schemas.field("ordinal", DataTypes.IntegerType))
          .add(Schemas.field("method", DataTypes.StringType))
          .add(Schemas.nullable("bits", DataTypes.IntegerType))
          .add(Schemas.nullable("sparsity", DataTypes.DoubleType))
          .add(Schemas.nullable("source", DataTypes.StringType));

  /** condition, ordinal, method, bits, sparsity, source. */
  static Dataset<Row> table(SparkSession spark, AnalysisSettings s) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < s.conditions().size(); i++) {
      ConditionInfo c = s.conditions().get(i);
      rows.add(
          RowFactory.create(
              c.name(),
              i,
              c.method(),
              c.bits().isPresent() ? c.bits().getAsInt() : null,
              c.sparsity().isPresent() ? c.sparsity().getAsDouble() : null,
              c.source().orElse(null)));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }
}
