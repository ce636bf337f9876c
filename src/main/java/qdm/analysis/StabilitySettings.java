package qdm.analysis;

import java.util.List;
import java.util.Optional;

/**
 * The paper's stability checks ({@code qdm.analysis.stability}); an empty list or optional means
 * that part is off.
 *
 * @param budgets fractions f in (0, 1]: the first floor(f n) chunk windows in window-id order
 * @param subsets random window subsets
 * @param thresholds (survived, damaged) pairs to reclassify the full run's r with, damaged &lt;
 *     survived
 * @param bootstrap the percentile bootstrap over windows
 */
public record StabilitySettings(
    List<Double> budgets,
    Optional<Subsets> subsets,
    List<Threshold> thresholds,
    Optional<Bootstrap> bootstrap)
    implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * A (survived, damaged) pair of the threshold grid: survived r &gt; survived, damaged r &lt;
   * damaged.
   */
  public record Threshold(double survived, double damaged) implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    /** "S/D", the {@code param} of its rows. */
    public String param() {
      return survived + "/" + damaged;
    }
  }

  /** Every check off. */
  public static final StabilitySettings OFF =
      new StabilitySettings(List.of(), Optional.empty(), List.of(), Optional.empty());

  public StabilitySettings {
    budgets = List.copyOf(budgets);
    thresholds = List.copyOf(thresholds);
  }

  /** {@code count} subsets of floor(fraction n) windows each, drawn with {@code seed}. */
  public record Subsets(int count, double fraction, long seed) implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** {@code samples} resamplings of the windows, the {@code confidence} percentile interval. */
  public record Bootstrap(int samples, double confidence, long seed)
      implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** Whether any check runs. */
  public boolean any() {
    return !budgets.isEmpty()
        || subsets.isPresent()
        || !thresholds.isEmpty()
        || bootstrap.isPresent();
  }
}
