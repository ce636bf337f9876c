package qdm.analysis;

import qdm.QdmException;

/** Two conditions whose damaged feature sets the {@code overlap} table compares. */
public record ConditionPair(String a, String b) {

  public ConditionPair {
    if (a == null || b == null || a.isBlank() || b.isBlank()) {
      throw new QdmException("analysis.overlap: a pair names an empty condition");
    }
    if (a.equals(b)) {
      throw new QdmException(
          "analysis.overlap: pair [" + a + ", " + b + "] compares a condition with itself");
    }
  }
}
