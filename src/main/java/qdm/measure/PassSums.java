package qdm.measure;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The statistics of a pass over the tokens, per condition name: what a task accumulates and what
 * Spark merges. Merging is exact ({@link Limbs}, counts, min and max), so the merged value does not
 * depend on how the windows were split into tasks or in which order tasks finished.
 */
public final class PassSums implements Serializable {
  private static final long serialVersionUID = 1L;
  private final Map<Key, ConditionSums> byCondition = new LinkedHashMap<>();

  /** Whose sums: one SAE under one condition. */
  public record Key(String sae, String condition) implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** The sums of {@code sae} under {@code condition}, created by {@code empty} on first use. */
  public ConditionSums of(String sae, String condition, Supplier<ConditionSums> empty) {
    return byCondition.computeIfAbsent(new Key(sae, condition), k -> empty.get());
  }

  public void merge(PassSums other) {
    for (Map.Entry<Key, ConditionSums> e : other.byCondition.entrySet()) {
      ConditionSums mine = byCondition.get(e.getKey());
      if (mine == null) {
        byCondition.put(e.getKey(), e.getValue());
      } else {
        mine.merge(e.getValue());
      }
    }
  }

  public boolean isEmpty() {
    return byCondition.isEmpty();
  }

  public Map<Key, ConditionSums> byCondition() {
    return Collections.unmodifiableMap(byCondition);
  }
}
