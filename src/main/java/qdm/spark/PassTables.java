package qdm.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import qdm.measure.ConditionSums;
import qdm.measure.FeatureSums;
import qdm.measure.FidelitySums;
import qdm.measure.PassSums;
import qdm.tables.Schemas;

/** The merged statistics of the pass as rows of {@code feature_sums} and {@code sae_fidelity}. */
final class PassTables {
  private PassTables() {}

  /** Rows of {@link Schemas#FEATURE_SUMS}, conditions in {@code order}, features ascending. */
  static List<Row> featureSums(PassSums sums, List<String> order) {
    List<Row> rows = new ArrayList<>();
    for (String condition : order) {
      FeatureSums f = require(sums, condition).features();
      for (int feature = 0; feature < f.features(); feature++) {
        List<Object> values = new ArrayList<>();
        values.add(condition);
        values.add(feature);
        values.add(f.positions());
        values.add(f.nonZero(feature));
        values.add(f.fired(feature));
        values.add(f.bothFired(feature));
        values.add(f.min(feature));
        values.add(f.max(feature));
        for (FeatureSums.Sum s : FeatureSums.Sum.values()) {
          for (long limb : f.sum(s).limbs(feature)) {
            values.add(limb);
          }
        }
        rows.add(RowFactory.create(values.toArray()));
      }
    }
    return rows;
  }

  /** Rows of {@link Schemas#SAE_FIDELITY}, conditions in {@code order}. */
  static List<Row> fidelity(PassSums sums, List<String> order) {
    List<Row> rows = new ArrayList<>();
    for (String condition : order) {
      FidelitySums f = require(sums, condition).fidelity();
      double fvu = f.fvu();
      rows.add(
          RowFactory.create(
              condition,
              f.positions(),
              Double.isNaN(fvu) ? null : fvu,
              f.cos(),
              f.l0(),
              f.ceClean(),
              boxed(f.ceSae()),
              boxed(f.ceZero())));
    }
    return rows;
  }

  private static ConditionSums require(PassSums sums, String condition) {
    Map<String, ConditionSums> m = sums.byCondition();
    ConditionSums c = m.get(condition);
    if (c == null) {
      throw new IllegalStateException("the pass produced no statistics for " + condition);
    }
    return c;
  }

  private static Double boxed(OptionalDouble d) {
    return d.isPresent() ? d.getAsDouble() : null;
  }
}
