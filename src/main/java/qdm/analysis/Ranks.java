package qdm.analysis;

import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.rank;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.expressions.Window;

/** Average ranks (1-based; tied values share the mean of their ranks), as in pandas/scipy. */
final class Ranks {
  private Ranks() {}

  /** The average rank of {@code value} within each group of {@code partition}. */
  static Column average(Column value, Column... partition) {
    List<Column> tie = new ArrayList<>(Arrays.asList(partition));
    tie.add(value);
    Column first = rank().over(Window.partitionBy(partition).orderBy(value));
    Column ties = count(lit(1)).over(Window.partitionBy(tie.toArray(new Column[0])));
    return first.cast("double").plus(ties.minus(1).cast("double").divide(2.0));
  }
}
