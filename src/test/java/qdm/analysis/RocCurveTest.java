package qdm.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RocCurveTest {
  /** Pairwise Mann-Whitney AUC, ties one half. */
  static double naiveAuc(double[] s, boolean[] l) {
    double wins = 0;
    long pairs = 0;
    for (int i = 0; i < s.length; i++) {
      for (int j = 0; j < s.length; j++) {
        if (l[i] && !l[j]) {
          wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
          pairs++;
        }
      }
    }
    return wins / pairs;
  }

  @Test
  void areaIsTheMannWhitneyAucWithTies() {
    Random r = new Random(3);
    for (int trial = 0; trial < 20; trial++) {
      int n = 5 + r.nextInt(300);
      double[] s = new double[n];
      boolean[] l = new boolean[n];
      for (int i = 0; i < n; i++) {
        l[i] = r.nextBoolean();
        s[i] = Math.round((l[i] ? 1 : 0) + r.nextGaussian() * 2) / 2.0; // many ties
      }
      l[0] = true;
      l[1] = false;
      List<double[]> points = RocCurve.points(s, l, Integer.MAX_VALUE);
      assertEquals(naiveAuc(s, l), RocCurve.area(points), 1e-12);
      assertArrayEquals(new double[] {0, 0}, points.get(0));
      assertArrayEquals(new double[] {1, 1}, points.get(points.size() - 1));
      for (int i = 1; i < points.size(); i++) {
        assertTrue(
            points.get(i)[0] >= points.get(i - 1)[0] && points.get(i)[1] >= points.get(i - 1)[1],
            "monotone");
      }
      List<double[]> thin = RocCurve.points(s, l, 10);
      assertTrue(thin.size() <= 10);
      assertArrayEquals(new double[] {1, 1}, thin.get(thin.size() - 1));
    }
  }

  @Test
  void oneClassGivesNoCurve() {
    assertEquals(List.of(), RocCurve.points(new double[] {1, 2}, new boolean[] {true, true}, 5));
  }
}
