package qdm.measure;

import java.io.Serializable;

/** Everything one condition accumulates over the tokens: feature statistics and SAE fidelity. */
public record ConditionSums(FeatureSums features, FidelitySums fidelity) implements Serializable {
  public void merge(ConditionSums other) {
    features.merge(other.features);
    fidelity.merge(other.fidelity);
  }
}
