package qdm.spark;

import java.io.Serializable;
import java.util.List;
import qdm.condition.Condition;

/**
 * What an executor needs for the one pass over the chunk windows: the model, SAE and device of
 * {@code base}, and every condition to run on each batch, the reference first (a matched condition
 * already at its searched sparsity).
 *
 * @param ceLossEvery the two splices of the CE-loss score (x̂ and zeros at the hook) run on the
 *     chunk windows whose id is a multiple of this (1: all)
 */
public record PassSpec(EncodeSpec base, List<Condition> conditions, long ceLossEvery)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public PassSpec {
    conditions = List.copyOf(conditions);
    if (ceLossEvery < 1) {
      throw new IllegalArgumentException("ceLossEvery must be at least 1, got " + ceLossEvery);
    }
    if (conditions.isEmpty() || !conditions.get(0).isReference()) {
      throw new IllegalArgumentException("the pass's first condition must be the reference");
    }
  }
}
