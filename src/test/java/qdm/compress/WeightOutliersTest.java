package qdm.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import qdm.model.TensorRole;
import qdm.model.Weights;

class WeightOutliersTest {

  /** The statistics of each target against a naive float64 computation on the host. */
  @Test
  void matchesANaiveComputation() {
    Random random = new Random(5);
    try (TinyWeights tiny = new TinyWeights(2, DataType.FLOAT32);
        Weights base =
            tiny.withLinear(
                (name, n) -> {
                  float[] w = TinyWeights.normal(n, 0.2, random);
                  w[3] = 4f; // one outlier in the first row of every tensor
                  return w;
                })) {
      List<String> names = tiny.names(TensorRole.DECODER_LINEAR);
      List<WeightOutliers> got = WeightOutliers.of(base, Set.of(TensorRole.DECODER_LINEAR));
      assertEquals(names, got.stream().map(WeightOutliers::tensor).toList());
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i);
        long[] shape = tiny.shape(name);
        WeightOutliers expected = naive(name, TinyWeights.host(base, name), (int) shape[0]);
        check(expected, got.get(i));
        // the same figures when the tensor is walked a few rows at a time
        check(
            expected,
            WeightOutliers.of(name, base.get(name), base.manager(), new RowBlocks(2 * shape[1])));
        assertTrue(got.get(i).maxPeakToRms() > got.get(i).meanPeakToRms());
        assertTrue(got.get(i).kurtosis() > 3, "an outlier makes the tails heavy");
      }
    }
  }

  private static void check(WeightOutliers expected, WeightOutliers got) {
    assertEquals(expected.rows(), got.rows());
    assertEquals(expected.rowLength(), got.rowLength());
    assertEquals(expected.meanPeakToRms(), got.meanPeakToRms(), 1e-5);
    assertEquals(expected.maxPeakToRms(), got.maxPeakToRms(), 1e-5);
    assertEquals(expected.kurtosis(), got.kurtosis(), 1e-4 * expected.kurtosis());
  }

  private static WeightOutliers naive(String name, float[] w, int rows) {
    int len = w.length / rows;
    double ratioSum = 0;
    double ratioMax = 0;
    for (int r = 0; r < rows; r++) {
      double peak = 0;
      double sq = 0;
      for (int j = 0; j < len; j++) {
        peak = Math.max(peak, Math.abs(w[r * len + j]));
        sq += (double) w[r * len + j] * w[r * len + j];
      }
      double ratio = peak / Math.sqrt(sq / len);
      ratioSum += ratio;
      ratioMax = Math.max(ratioMax, ratio);
    }
    double mean = 0;
    for (float v : w) {
      mean += v;
    }
    mean /= w.length;
    double m2 = 0;
    double m4 = 0;
    for (float v : w) {
      double d = v - mean;
      m2 += d * d;
      m4 += d * d * d * d;
    }
    m2 /= w.length;
    m4 /= w.length;
    return new WeightOutliers(name, rows, len, ratioSum / rows, ratioMax, m4 / (m2 * m2));
  }
}
