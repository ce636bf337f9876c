package qdm.measure;

import java.io.Serializable;
import java.util.OptionalDouble;

/**
 * How well the SAE reconstructs one condition's own activations, as mergeable sums over token
 * positions: Σ‖x − x̂‖², Σ cos(x, x̂), the non-zero codes, Σx and Σx² per input dimension (for the
 * total variance about the per-dimension mean), and the next-token NLL of the scored positions with
 * the model as is, with x̂ spliced in at the hook and with zeros spliced in.
 *
 * <p>Definitions (SAELens / SAEBench): {@code sae_fvu} = Σ‖x − x̂‖² / Σ‖x − x̄‖², {@code sae_cos} =
 * mean cos(x, x̂), {@code sae_l0} = mean non-zero codes per position, {@code ce_loss_score} =
 * (CE_zero − CE_sae) / (CE_zero − CE_clean).
 */
public final class FidelitySums implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int width;
  private final boolean spliced;
  private long positions;
  private long nonZero;
  private long scored;
  private final Limbs squaredError = new Limbs(1);
  private final Limbs cosine = new Limbs(1);
  private final Limbs dimSum;
  private final Limbs dimSquares;
  private final Limbs nll = new Limbs(3); // clean, sae, zero

  /**
   * @param width the SAE's input width
   * @param spliced whether the CE-loss splices run (false where splicing is not defined)
   */
  public FidelitySums(int width, boolean spliced) {
    this.width = width;
    this.spliced = spliced;
    dimSum = new Limbs(width);
    dimSquares = new Limbs(width);
  }

  /**
   * Adds a batch of positions: the inputs {@code x} [n × width] row-major, the squared error and
   * cosine of each position's reconstruction, and the number of non-zero codes.
   */
  public void addReconstruction(float[] x, double[] squaredErrors, double[] cosines, long codes) {
    int n = squaredErrors.length;
    if (x.length != (long) n * width || cosines.length != n) {
      throw new IllegalArgumentException("a batch of " + n + " positions of width " + width);
    }
    positions += n;
    nonZero += codes;
    for (int p = 0; p < n; p++) {
      squaredError.add(0, squaredErrors[p]);
      cosine.add(0, cosines[p]);
      int row = p * width;
      for (int d = 0; d < width; d++) {
        double v = x[row + d];
        dimSum.add(d, v);
        dimSquares.add(d, v * v);
      }
    }
  }

  /** Adds the NLL of scored positions: clean, with x̂ spliced in, with zeros spliced in. */
  public void addNll(double[] clean, double[] sae, double[] zero) {
    scored += clean.length;
    for (int i = 0; i < clean.length; i++) {
      nll.add(0, clean[i]);
      if (spliced) {
        nll.add(1, sae[i]);
        nll.add(2, zero[i]);
      }
    }
  }

  public void merge(FidelitySums o) {
    positions += o.positions;
    nonZero += o.nonZero;
    scored += o.scored;
    squaredError.merge(o.squaredError);
    cosine.merge(o.cosine);
    dimSum.merge(o.dimSum);
    dimSquares.merge(o.dimSquares);
    nll.merge(o.nll);
  }

  public long positions() {
    return positions;
  }

  /** Σ‖x − x̂‖² / Σ‖x − x̄‖²; NaN when the positions have no variance. */
  public double fvu() {
    double total = 0;
    for (int d = 0; d < width; d++) {
      double s = dimSum.value(d);
      total += dimSquares.value(d) - s * s / positions;
    }
    return total > 0 ? squaredError.value(0) / total : Double.NaN;
  }

  public double cos() {
    return cosine.value(0) / positions;
  }

  public double l0() {
    return (double) nonZero / positions;
  }

  /** Mean NLL of the scored positions, the model as is. */
  public double ceClean() {
    return nll.value(0) / scored;
  }

  /** Mean NLL with x̂ spliced in at the hook, if the splice is defined. */
  public OptionalDouble ceSae() {
    return spliced ? OptionalDouble.of(nll.value(1) / scored) : OptionalDouble.empty();
  }

  /** Mean NLL with zeros spliced in at the hook, if the splice is defined. */
  public OptionalDouble ceZero() {
    return spliced ? OptionalDouble.of(nll.value(2) / scored) : OptionalDouble.empty();
  }

  /** (CE_zero − CE_sae) / (CE_zero − CE_clean), if the splice is defined. */
  public OptionalDouble ceLossScore() {
    if (!spliced) {
      return OptionalDouble.empty();
    }
    double zero = ceZero().getAsDouble();
    return OptionalDouble.of((zero - ceSae().getAsDouble()) / (zero - ceClean()));
  }
}
