package qdm.analysis;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import qdm.tables.AnalysisSchemas;
import qdm.tables.Schemas;

/**
 * The {@code overlap} table: do two compression methods damage the same features (docs/method.md
 * §9)? Over active features: Jaccard |A∩B| / |A∪B| of the non-survived sets (r <= survived
 * threshold) and of the damaged sets (r < damaged threshold), 1.0 when both sets are empty;
 * Spearman (Pearson of average ranks, so ties share ranks) and Pearson correlation of the damage
 * scores 1 - r, null when a side is constant.
 */
public final class Overlap {
  private Overlap() {}

  private static final StructType PAIRS =
      new StructType()
          .add(Schemas.field("pair", DataTypes.IntegerType))
          .add(Schemas.field("condition_a", DataTypes.StringType))
          .add(Schemas.field("condition_b", DataTypes.StringType));

  /**
   * @param featureSurvival the {@link FeatureSurvival} table
   */
  public static Dataset<Row> compute(Dataset<Row> featureSurvival, AnalysisSettings s) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < s.overlap().size(); i++) {
      rows.add(RowFactory.create(i, s.overlap().get(i).a(), s.overlap().get(i).b()));
    }
    Dataset<Row> pairs = featureSurvival.sparkSession().createDataFrame(rows, PAIRS);
    Dataset<Row> active =
        featureSurvival.filter(col("active")).select("condition", "feature", "pearson");
    Dataset<Row> sideA =
        pairs
            .join(active, pairs.col("condition_a").equalTo(active.col("condition")))
            .select(
                col("pair"),
                col("condition_a"),
                col("condition_b"),
                col("feature"),
                col("pearson").as("r_a"));
    Dataset<Row> sideB =
        pairs
            .join(active, pairs.col("condition_b").equalTo(active.col("condition")))
            .select(col("pair"), col("feature"), col("pearson").as("r_b"));

    Column ra = col("r_a");
    Column rb = col("r_b");
    Column nonA = ra.leq(s.survivedAbove());
    Column nonB = rb.leq(s.survivedAbove());
    Column dmgA = ra.lt(s.damagedBelow());
    Column dmgB = rb.lt(s.damagedBelow());
    List<Column> aggs =
        new ArrayList<>(
            List.of(
                count(when(nonA, 1)).as("n_nonsurvived_a"),
                count(when(nonB, 1)).as("n_nonsurvived_b"),
                count(when(nonA.and(nonB), 1)).as("n_nonsurvived_both"),
                count(when(nonA.or(nonB), 1)).as("n_nonsurvived_any"),
                count(when(dmgA, 1)).as("n_damaged_a"),
                count(when(dmgB, 1)).as("n_damaged_b"),
                count(when(dmgA.and(dmgB), 1)).as("n_damaged_both"),
                count(when(dmgA.or(dmgB), 1)).as("n_damaged_any")));
    aggs.addAll(Pearson.sums(col("damage_a"), col("damage_b"), "dmg"));
    aggs.addAll(Pearson.sums(col("rank_a"), col("rank_b"), "rank"));

    Dataset<Row> table =
        sideA
            .join(sideB, new String[] {"pair", "feature"})
            .withColumn("damage_a", lit(1.0).minus(ra))
            .withColumn("damage_b", lit(1.0).minus(rb))
            .withColumn("rank_a", Ranks.average(col("damage_a"), col("pair")))
            .withColumn("rank_b", Ranks.average(col("damage_b"), col("pair")))
            .groupBy("pair", "condition_a", "condition_b")
            .agg(count(lit(1)).as("n_active"), aggs.toArray(new Column[0]))
            .withColumn(
                "jaccard_nonsurvived", jaccard(col("n_nonsurvived_both"), col("n_nonsurvived_any")))
            .withColumn("jaccard_damaged", jaccard(col("n_damaged_both"), col("n_damaged_any")))
            .withColumn("spearman_damage", Pearson.fromSums("rank", col("n_active")))
            .withColumn("pearson_damage", Pearson.fromSums("dmg", col("n_active")));
    return Inputs.output(table, AnalysisSchemas.OVERLAP, "pair");
  }

  private static Column jaccard(Column both, Column any) {
    return when(any.equalTo(0), lit(1.0)).otherwise(both.cast("double").divide(any));
  }
}
