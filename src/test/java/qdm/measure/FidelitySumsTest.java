package qdm.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link FidelitySums} against two-pass float64 formulas, and merge order independence. */
class FidelitySumsTest {
  @Test
  void fvuCosineL0AndCeLossScoreMatchTwoPassFormulas() {
    Random rnd = new Random(11);
    int n = 257;
    int width = 13;
    float[] x = new float[n * width];
    float[] xHat = new float[n * width];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (50 + 3 * rnd.nextGaussian()); // a large mean: variance by cancellation
      xHat[i] = (float) (x[i] + rnd.nextGaussian());
    }
    double[] err = new double[n];
    double[] cos = new double[n];
    for (int p = 0; p < n; p++) {
      double dot = 0;
      double xx = 0;
      double hh = 0;
      for (int d = 0; d < width; d++) {
        double a = x[p * width + d];
        double b = xHat[p * width + d];
        err[p] += (a - b) * (a - b);
        dot += a * b;
        xx += a * a;
        hh += b * b;
      }
      cos[p] = dot / Math.sqrt(xx * hh);
    }
    double[] mean = new double[width];
    for (int p = 0; p < n; p++) {
      for (int d = 0; d < width; d++) {
        mean[d] += x[p * width + d] / (double) n;
      }
    }
    double total = 0;
    double sq = 0;
    double cosSum = 0;
    for (int p = 0; p < n; p++) {
      sq += err[p];
      cosSum += cos[p];
      for (int d = 0; d < width; d++) {
        double c = x[p * width + d] - mean[d];
        total += c * c;
      }
    }
    double[] clean = {2.0, 2.5, 3.0};
    double[] sae = {2.5, 3.0, 3.0};
    double[] zero = {6.0, 7.0, 8.0};

    FidelitySums whole = new FidelitySums(width, true);
    whole.addReconstruction(x, err, cos, 5L * n);
    whole.addNll(clean, sae, zero);
    assertEquals(sq / total, whole.fvu(), 1e-9);
    assertEquals(cosSum / n, whole.cos(), 1e-12);
    assertEquals(5.0, whole.l0());
    double ceClean = 2.5;
    double ceSae = 8.5 / 3;
    double ceZero = 7.0;
    assertEquals((ceZero - ceSae) / (ceZero - ceClean), whole.ceLossScore().getAsDouble(), 1e-12);

    // split in two and merged the other way round: the same bits
    int cut = 100;
    FidelitySums a = new FidelitySums(width, true);
    FidelitySums b = new FidelitySums(width, true);
    a.addReconstruction(
        java.util.Arrays.copyOfRange(x, 0, cut * width),
        java.util.Arrays.copyOfRange(err, 0, cut),
        java.util.Arrays.copyOfRange(cos, 0, cut),
        5L * cut);
    b.addReconstruction(
        java.util.Arrays.copyOfRange(x, cut * width, n * width),
        java.util.Arrays.copyOfRange(err, cut, n),
        java.util.Arrays.copyOfRange(cos, cut, n),
        5L * (n - cut));
    a.addNll(clean, sae, zero);
    b.merge(a);
    assertEquals(whole.fvu(), b.fvu());
    assertEquals(whole.cos(), b.cos());
    assertEquals(whole.ceLossScore().getAsDouble(), b.ceLossScore().getAsDouble());
  }
}
