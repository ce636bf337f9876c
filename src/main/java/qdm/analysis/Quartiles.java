package qdm.analysis;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.percentile;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import qdm.tables.AnalysisSchemas;
import qdm.tables.Schemas;

/**
 * The {@code quartiles} table: survival % by quartile of each FP predictor statistic over active
 * features (docs/method.md §10; the authors' {@code pd.qcut(q=4)}). Edges are the 25/50/75%
 * quantiles with linear interpolation (numpy's default); bins are right-closed, the first one also
 * holding the minimum. Tied edges leave a quartile empty: its row has n = 0.
 */
public final class Quartiles {
  private Quartiles() {}

  private static final StructType KEYS =
      new StructType()
          .add(Schemas.field("statistic", DataTypes.StringType))
          .add(Schemas.field("stat_ordinal", DataTypes.IntegerType))
          .add(Schemas.field("quartile", DataTypes.IntegerType));

  /**
   * @param featureStats the {@link FeatureStats} table
   * @param featureSurvival the {@link FeatureSurvival} table
   */
  public static Dataset<Row> compute(
      Dataset<Row> featureStats, Dataset<Row> featureSurvival, AnalysisSettings s) {
    SparkSession spark = featureStats.sparkSession();
    Column[] stats = Predictors.NAMES.stream().map(n -> col(n)).toArray(Column[]::new);
    Dataset<Row> values =
        Predictors.ofActive(featureStats)
            .unpivot(new Column[] {col("feature")}, stats, "statistic", "value");

    Column q = percentile(col("value"), array(lit(0.25), lit(0.5), lit(0.75)));
    Dataset<Row> edges =
        values
            .groupBy("statistic")
            .agg(min("value").as("e0"), q.as("q"), max("value").as("e4"))
            .select(
                col("statistic"),
                col("e0"),
                element_at(col("q"), 1).as("e1"),
                element_at(col("q"), 2).as("e2"),
                element_at(col("q"), 3).as("e3"),
                col("e4"));

    Column v = col("value");
    Dataset<Row> assigned =
        values
            .join(edges, "statistic")
            .withColumn(
                "quartile",
                when(v.leq(col("e1")), 1)
                    .when(v.leq(col("e2")), 2)
                    .when(v.leq(col("e3")), 3)
                    .otherwise(4))
            .select("statistic", "feature", "quartile");
    Dataset<Row> counts =
        assigned
            .join(
                featureSurvival.filter(col("active")).select("condition", "feature", "class"),
                "feature")
            .groupBy("condition", "statistic", "quartile")
            .agg(
                count(lit(1)).as("n"),
                count(when(col("class").equalTo(AnalysisSchemas.SURVIVED), 1)).as("n_survived"));

    Column quartile = col("quartile");
    Column n = coalesce(col("n"), lit(0L));
    Dataset<Row> table =
        Conditions.table(spark, s)
            .crossJoin(keys(spark))
            .join(edges, "statistic")
            .join(counts, new String[] {"condition", "statistic", "quartile"}, "left")
            .withColumn(
                "lower",
                when(quartile.equalTo(1), col("e0"))
                    .when(quartile.equalTo(2), col("e1"))
                    .when(quartile.equalTo(3), col("e2"))
                    .otherwise(col("e3")))
            .withColumn(
                "upper",
                when(quartile.equalTo(1), col("e1"))
                    .when(quartile.equalTo(2), col("e2"))
                    .when(quartile.equalTo(3), col("e3"))
                    .otherwise(col("e4")))
            .withColumn("n", n)
            .withColumn("n_survived", coalesce(col("n_survived"), lit(0L)))
            .withColumn("survived_pct", when(n.gt(0), col("n_survived").multiply(100.0).divide(n)));
    return Inputs.output(table, AnalysisSchemas.QUARTILES, "ordinal", "stat_ordinal", "quartile");
  }

  /** statistic x quartile 1..4. */
  private static Dataset<Row> keys(SparkSession spark) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < Predictors.NAMES.size(); i++) {
      for (int quartile = 1; quartile <= 4; quartile++) {
        rows.add(RowFactory.create(Predictors.NAMES.get(i), i, quartile));
      }
    }
    return spark.createDataFrame(rows, KEYS);
  }
}
