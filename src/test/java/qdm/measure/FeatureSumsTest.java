package qdm.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import qdm.sae.SparseCodes;

/**
 * {@link FeatureSums} against dense float64 sums over every (position, feature), and the property
 * the analysis relies on: merging partial sums in any grouping and order gives the same bits.
 */
class FeatureSumsTest {
  private static final int FEATURES = 23;

  /** Dense codes [tokens][features], about a fifth non-zero, some negative. */
  private static float[][] dense(Random rnd, int tokens, float[][] like) {
    float[][] a = new float[tokens][FEATURES];
    for (int t = 0; t < tokens; t++) {
      for (int f = 0; f < FEATURES; f++) {
        boolean on =
            like != null && like[t][f] != 0 ? rnd.nextDouble() < 0.8 : rnd.nextDouble() < 0.2;
        if (on && f != 5) { // feature 5 never fires
          a[t][f] = (float) (rnd.nextDouble() < 0.05 ? -rnd.nextDouble() : 10 * rnd.nextDouble());
        }
      }
    }
    return a;
  }

  private static SparseCodes sparse(float[][] a, int from, int to) {
    List<int[]> entries = new ArrayList<>();
    List<Float> values = new ArrayList<>();
    for (int t = from; t < to; t++) {
      for (int f = 0; f < FEATURES; f++) {
        if (a[t][f] != 0) {
          entries.add(new int[] {t - from, f});
          values.add(a[t][f]);
        }
      }
    }
    int[] token = new int[entries.size()];
    int[] feature = new int[entries.size()];
    float[] act = new float[entries.size()];
    for (int i = 0; i < token.length; i++) {
      token[i] = entries.get(i)[0];
      feature[i] = entries.get(i)[1];
      act[i] = values.get(i);
    }
    return new SparseCodes(to - from, FEATURES, token, feature, act);
  }

  @Test
  void sumsEqualDenseSumsAndDoNotDependOnHowTheyAreMerged() {
    Random rnd = new Random(3);
    int tokens = 300;
    float[][] x = dense(rnd, tokens, null);
    float[][] y = dense(rnd, tokens, x);

    FeatureSums whole = new FeatureSums(FEATURES);
    whole.add(sparse(x, 0, tokens), sparse(y, 0, tokens));

    for (int f = 0; f < FEATURES; f++) {
      double sy = 0;
      double syy = 0;
      double sxy = 0;
      double pos = 0;
      long nz = 0;
      long fired = 0;
      long both = 0;
      for (int t = 0; t < tokens; t++) {
        double a = x[t][f];
        double b = y[t][f];
        sy += b;
        syy += b * b;
        sxy += a * b;
        pos += Math.max(b, 0);
        nz += b != 0 ? 1 : 0;
        fired += b > 0 ? 1 : 0;
        both += a > 0 && b > 0 ? 1 : 0;
      }
      assertEquals(sy, whole.sum(FeatureSums.Sum.Y).value(f), 1e-9, "Σy " + f);
      assertEquals(syy, whole.sum(FeatureSums.Sum.YY).value(f), 1e-9, "Σy² " + f);
      assertEquals(sxy, whole.sum(FeatureSums.Sum.XY).value(f), 1e-9, "Σxy " + f);
      assertEquals(pos, whole.sum(FeatureSums.Sum.Y_POSITIVE).value(f), 1e-9, "Σy+ " + f);
      assertEquals(nz, whole.nonZero(f));
      assertEquals(fired, whole.fired(f));
      assertEquals(both, whole.bothFired(f));
    }
    assertNull(whole.min(5));
    assertEquals(tokens, whole.positions());

    // three batches, merged in two different orders, give the same bits as one batch
    FeatureSums[] parts = new FeatureSums[3];
    int[] cuts = {0, 97, 211, tokens};
    for (int i = 0; i < 3; i++) {
      parts[i] = new FeatureSums(FEATURES);
      parts[i].add(sparse(x, cuts[i], cuts[i + 1]), sparse(y, cuts[i], cuts[i + 1]));
    }
    FeatureSums forward = new FeatureSums(FEATURES);
    forward.merge(parts[0]);
    forward.merge(parts[1]);
    forward.merge(parts[2]);
    FeatureSums backward = new FeatureSums(FEATURES);
    backward.merge(parts[2]);
    backward.merge(parts[0]);
    backward.merge(parts[1]);
    for (FeatureSums m : List.of(forward, backward)) {
      for (FeatureSums.Sum s : FeatureSums.Sum.values()) {
        assertEquals(whole.sum(s), m.sum(s), s.toString());
      }
      for (int f = 0; f < FEATURES; f++) {
        assertEquals(whole.min(f), m.min(f));
        assertEquals(whole.max(f), m.max(f));
        assertEquals(whole.bothFired(f), m.bothFired(f));
      }
    }
  }
}
