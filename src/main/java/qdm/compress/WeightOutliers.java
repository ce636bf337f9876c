package qdm.compress;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import qdm.model.TensorRole;
import qdm.model.Weights;

/**
 * How far a weight matrix's rows are from what one per-row RTN scale handles well. RTN's step is
 * max|row| / qmax, so a row whose largest weight is many times its RMS spends most of its levels on
 * one outlier and rounds everything else coarsely; trained language models have such rows,
 * Gaussian-like weights do not (their peak-to-RMS is about 3 to 4.5 for rows of a few hundred to a
 * few thousand weights). Kurtosis says the same for the whole tensor (3 for a Gaussian).
 *
 * @param tensor the weight's name
 * @param rows rows (output features)
 * @param rowLength weights per row
 * @param meanPeakToRms mean over rows of max|w| / RMS(w) (rows of all zeros skipped)
 * @param maxPeakToRms the largest max|w| / RMS(w) of any row
 * @param kurtosis E[(w - mean)^4] / variance^2 over the whole tensor (0 for a constant tensor)
 */
public record WeightOutliers(
    String tensor,
    long rows,
    long rowLength,
    double meanPeakToRms,
    double maxPeakToRms,
    double kurtosis) {

  /** The statistics of every distinct tensor of {@code weights} with one of {@code roles}. */
  public static List<WeightOutliers> of(Weights weights, Set<TensorRole> roles) {
    List<WeightOutliers> out = new ArrayList<>();
    WeightRewrite.targets(weights, roles)
        .forEach((name, w) -> out.add(of(name, w, weights.manager(), RowBlocks.DEFAULT)));
    return out;
  }

  static WeightOutliers of(String name, NDArray w, NDManager parent, RowBlocks blocks) {
    Moments m = new Moments();
    blocks.forEach(w, parent, (w32, scope) -> m.add(w32));
    return new WeightOutliers(
        name,
        RowBlocks.rows(w),
        RowBlocks.rowLength(w),
        m.ratedRows == 0 ? 0 : m.ratioSum / m.ratedRows,
        m.ratioMax,
        m.kurtosis());
  }

  /** Raw moments in float64 and per-row peak-to-RMS ratios, accumulated block by block. */
  private static final class Moments {
    long n;
    double s1;
    double s2;
    double s3;
    double s4;
    double ratioSum;
    double ratioMax;
    long ratedRows;

    void add(NDArray w32) {
      n += w32.size();
      s1 += RowBlocks.sum(w32);
      NDArray sq = w32.square();
      s2 += RowBlocks.sum(sq);
      s3 += RowBlocks.sum(sq.mul(w32));
      s4 += RowBlocks.sum(sq.square());
      float[] peak = w32.abs().max(new int[] {1}).toFloatArray();
      float[] rms = sq.mean(new int[] {1}).sqrt().toFloatArray();
      for (int r = 0; r < peak.length; r++) {
        if (rms[r] > 0) {
          double ratio = (double) peak[r] / rms[r];
          ratioSum += ratio;
          ratioMax = Math.max(ratioMax, ratio);
          ratedRows++;
        }
      }
    }

    double kurtosis() {
      double mean = s1 / n;
      double variance = s2 / n - mean * mean;
      if (!(variance > 0)) {
        return 0;
      }
      double m4 =
          s4 / n - 4 * mean * s3 / n + 6 * mean * mean * s2 / n - 3 * mean * mean * mean * mean;
      return m4 / (variance * variance);
    }
  }
}
