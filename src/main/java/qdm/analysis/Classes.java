package qdm.analysis;

import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.sql.Column;
import qdm.tables.AnalysisSchemas;

/** docs/method.md §6: survived r > 0.9, damaged r < 0.5, blurred otherwise. */
final class Classes {
  private Classes() {}

  static Column of(Column r, AnalysisSettings s) {
    return when(r.gt(s.survivedAbove()), lit(AnalysisSchemas.SURVIVED))
        .when(r.lt(s.damagedBelow()), lit(AnalysisSchemas.DAMAGED))
        .otherwise(lit(AnalysisSchemas.BLURRED));
  }
}
