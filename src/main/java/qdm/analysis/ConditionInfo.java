package qdm.analysis;

import java.util.OptionalDouble;
import java.util.OptionalInt;
import qdm.QdmException;

/**
 * What the {@code conditions} table says about how a condition was made: its compression method
 * ({@code none}, {@code rtn}, {@code prune}, ...) and, where they apply, its bit width and sparsity
 * (for matched pruning, the sparsity the search chose), and where its weights come from ({@code
 * source}).
 */
public record ConditionInfo(
    String name,
    String method,
    OptionalInt bits,
    OptionalDouble sparsity,
    java.util.Optional<String> source) {

  public ConditionInfo(String name, String method, OptionalInt bits, OptionalDouble sparsity) {
    this(name, method, bits, sparsity, java.util.Optional.empty());
  }

  public ConditionInfo {
    if (name == null || name.isBlank()) {
      throw new QdmException("conditions: a condition has an empty name");
    }
    if (method == null || method.isBlank()) {
      throw new QdmException("conditions." + name + ".method is empty");
    }
    if (bits == null || sparsity == null) {
      throw new IllegalArgumentException("bits and sparsity are Optional, never null");
    }
    if (sparsity.isPresent() && !(sparsity.getAsDouble() >= 0 && sparsity.getAsDouble() <= 1)) {
      throw new QdmException(
          "conditions." + name + ".sparsity must be in [0, 1], got " + sparsity.getAsDouble());
    }
  }

  /** A condition with neither bits nor sparsity (the reference, say). */
  public static ConditionInfo of(String name, String method) {
    return new ConditionInfo(name, method, OptionalInt.empty(), OptionalDouble.empty());
  }
}
