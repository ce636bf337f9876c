package qdm.analysis;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import qdm.QdmException;

/**
 * Everything the {@code analyze} stage needs besides its input tables: the reference condition, the
 * SAE width, the thresholds of docs/method.md §5-§6, the overlap pairs (§9), the survival predictor
 * (section 10) and what each condition is. Messages name the {@code qdm.analysis} configuration
 * keys.
 *
 * @param reference the reference (full-precision) condition; also compared with itself
 * @param dSae number of SAE features; features are 0..dSae-1
 * @param activeFiringRate a feature is active when its FP firing rate is above this (0.001)
 * @param survivedAbove survived when r is above this (0.9)
 * @param damagedBelow damaged when r is below this (0.5); blurred in between
 * @param overlap condition pairs for the {@code overlap} table
 * @param predictorCondition whose survival the predictor learns (empty: no predictor rows)
 * @param folds stratified cross-validation folds (5)
 * @param seed seed of the fold shuffle (0)
 * @param nullRun the FP-vs-FP null run: a condition that re-encodes the reference; when present,
 *     {@link Analysis#run} fails unless it gives r = 1 for every active feature
 * @param conditions every condition, reference included, in report order
 */
public record AnalysisSettings(
    String reference,
    int dSae,
    double activeFiringRate,
    double survivedAbove,
    double damagedBelow,
    List<ConditionPair> overlap,
    Optional<String> predictorCondition,
    int folds,
    long seed,
    Optional<String> nullRun,
    List<ConditionInfo> conditions) {

  public AnalysisSettings {
    overlap = List.copyOf(overlap);
    conditions = List.copyOf(conditions);
    Set<String> names = new HashSet<>();
    for (ConditionInfo c : conditions) {
      if (!names.add(c.name())) {
        throw new QdmException("conditions: duplicate condition name '" + c.name() + "'");
      }
    }
    requireCondition(names, reference, "the reference condition");
    nullRun.ifPresent(c -> requireCondition(names, c, "analysis.null-run"));
    if (dSae <= 0) {
      throw new QdmException("sae: d_sae must be positive, got " + dSae);
    }
    if (!(activeFiringRate >= 0 && activeFiringRate < 1)) {
      throw new QdmException(
          "analysis.active-firing-rate must be in [0, 1), got " + activeFiringRate);
    }
    if (!(survivedAbove >= -1 && survivedAbove <= 1)) {
      throw new QdmException("analysis.survived-above must be in [-1, 1], got " + survivedAbove);
    }
    if (!(damagedBelow >= -1 && damagedBelow <= survivedAbove)) {
      throw new QdmException(
          "analysis.damaged-below must be in [-1, survived-above = "
              + survivedAbove
              + "], got "
              + damagedBelow);
    }
    for (int i = 0; i < overlap.size(); i++) {
      requireCondition(names, overlap.get(i).a(), "analysis.overlap[" + i + "]");
      requireCondition(names, overlap.get(i).b(), "analysis.overlap[" + i + "]");
    }
    predictorCondition.ifPresent(p -> requireCondition(names, p, "analysis.predictor.condition"));
    if (folds < 2) {
      throw new QdmException("analysis.predictor.folds must be at least 2, got " + folds);
    }
  }

  /** The names of {@link #conditions}, in order. */
  public List<String> conditionNames() {
    return conditions.stream().map(ConditionInfo::name).collect(Collectors.toList());
  }

  private static void requireCondition(Set<String> names, String name, String key) {
    if (name == null || !names.contains(name)) {
      throw new QdmException(
          key
              + ": '"
              + name
              + "' is not a configured condition "
              + names.stream().sorted().collect(Collectors.joining(", ", "(", ")")));
    }
  }
}
