package qdm.analysis;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import qdm.testing.LocalSpark;

/** {@link ExactSum} against BigDecimal sums, and independent of row order and partitioning. */
class ExactSumTest {

  @Test
  void matchesTheExactSumAndIgnoresOrder() {
    SparkSession spark = LocalSpark.get();
    Random rnd = new Random(3);
    List<Row> rows = new ArrayList<>();
    BigDecimal[] exact = {BigDecimal.ZERO, BigDecimal.ZERO, BigDecimal.ZERO};
    int[] counts = new int[3];
    for (int i = 0; i < 3000; i++) {
      int group = i % 3;
      // Products of float activations over many magnitudes, both signs, and a few huge terms.
      float x = (float) (Math.pow(10, -4 + 7 * rnd.nextDouble()) * (rnd.nextBoolean() ? 1 : -1));
      float y = (float) Math.pow(10, -4 + 7 * rnd.nextDouble());
      double term = group == 2 && i % 100 == 2 ? 0x1p46 * rnd.nextDouble() : (double) x * y;
      rows.add(RowFactory.create(group, term));
      exact[group] = exact[group].add(new BigDecimal(term));
      counts[group]++;
    }
    StructType schema =
        new StructType().add("g", DataTypes.IntegerType).add("t", DataTypes.DoubleType);
    List<Row> shuffled = new ArrayList<>(rows);
    Collections.shuffle(shuffled, new Random(4));

    List<Row> sorted = sums(spark.createDataFrame(rows, schema).coalesce(1));
    List<Row> scattered = sums(spark.createDataFrame(shuffled, schema).repartition(7));
    assertEquals(sorted, scattered, "bit-identical whatever the order and partitioning");
    for (int g = 0; g < 3; g++) {
      double got = sorted.get(g).getDouble(1);
      double bound = counts[g] * 0x1p-60 + 2 * Math.ulp(exact[g].doubleValue());
      assertTrue(
          Math.abs(got - exact[g].doubleValue()) <= bound,
          "group " + g + ": " + got + " vs " + exact[g]);
    }
  }

  private static List<Row> sums(Dataset<Row> terms) {
    Column[] limbs = ExactSum.of(col("t"), "s");
    return terms
        .groupBy("g")
        .agg(limbs[0], limbs[1], limbs[2])
        .select(col("g"), ExactSum.value("s").as("s"))
        .orderBy("g")
        .collectAsList();
  }
}
