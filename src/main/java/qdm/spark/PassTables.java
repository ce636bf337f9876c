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

  /**
   * Rows of {@link Schemas#FEATURE_SUMS}: SAEs and conditions in the given orders, features
   * ascending.
   */
  static List<Row> featureSums(PassSums sums, List<String> saes, List<String> order) {
    List<Row> rows = new ArrayList<>();
    for (String sae : saes) {
      for (String condition : order) {
        rows.addAll(featureSums(sae, condition, require(sums, sae, condition).features()));
      }
    }
    return rows;
  }

  private static List<Row> featureSums(String sae, String condition, FeatureSums f) {
    List<Row> rows = new ArrayList<>();
    for (int feature = 0; feature < f.features(); feature++) {
      List<Object> values = new ArrayList<>();
      values.add(sae);
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
    return rows;
  }

  /** Rows of {@link Schemas#SAE_FIDELITY}: SAEs and conditions in the given orders. */
  static List<Row> fidelity(PassSums sums, List<String> saes, List<String> order) {
    List<Row> rows = new ArrayList<>();
    for (String sae : saes) {
      for (String condition : order) {
        rows.add(fidelity(sae, condition, require(sums, sae, condition).fidelity()));
      }
    }
    return rows;
  }

  private static Row fidelity(String sae, String condition, FidelitySums f) {
    double fvu = f.fvu();
    return RowFactory.create(
        sae,
        condition,
        f.positions(),
        Double.isNaN(fvu) ? null : fvu,
        f.cos(),
        f.l0(),
        f.ceClean(),
        boxed(f.ceSae()),
        boxed(f.ceZero()));
  }

  private static ConditionSums require(PassSums sums, String sae, String condition) {
    Map<PassSums.Key, ConditionSums> m = sums.byCondition();
    ConditionSums c = m.get(new PassSums.Key(sae, condition));
    if (c == null) {
      throw new IllegalStateException(
          "the pass produced no statistics for SAE " + sae + " under " + condition);
    }
    return c;
  }

  private static Double boxed(OptionalDouble d) {
    return d.isPresent() ? d.getAsDouble() : null;
  }
}
