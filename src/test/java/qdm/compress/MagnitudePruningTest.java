package qdm.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import qdm.QdmException;
import qdm.model.TensorRole;
import qdm.model.Weights;

/**
 * Magnitude pruning against a naive Java computation (sort the magnitudes, take the k-th, zero
 * everything at or below it): exact counts, ties at the threshold, per tensor and global.
 */
class MagnitudePruningTest {
  static TinyWeights tiny;
  static List<String> linear;

  @BeforeAll
  static void open() {
    tiny = new TinyWeights(2, DataType.FLOAT32);
    linear = tiny.names(TensorRole.DECODER_LINEAR);
  }

  @AfterAll
  static void close() {
    tiny.close();
  }

  /** The k-th smallest |w| (1-based) by sorting. */
  static float naiveThreshold(float[] w, long k) {
    float[] a = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      a[i] = Math.abs(w[i]);
    }
    Arrays.sort(a);
    return a[(int) k - 1];
  }

  static float[] zeroAtOrBelow(float[] w, float threshold) {
    float[] out = w.clone();
    for (int i = 0; i < out.length; i++) {
      if (Math.abs(out[i]) <= threshold) {
        out[i] = 0f;
      }
    }
    return out;
  }

  static int zeros(float[] w) {
    int n = 0;
    for (float v : w) {
      n += v == 0 ? 1 : 0;
    }
    return n;
  }

  @ParameterizedTest
  @ValueSource(doubles = {0.1, 0.3, 0.5, 0.9, 0.999})
  void perTensorRemovesExactlyKDistinctWeights(double sparsity) {
    Random random = new Random(11);
    MagnitudePruning prune = new MagnitudePruning(sparsity);
    try (Weights base = tiny.withLinear((name, n) -> TinyWeights.normal(n, 1.0, random));
        Compressed c = prune.apply(base)) {
      long zeros = 0;
      long params = 0;
      for (String name : linear) {
        float[] w = TinyWeights.host(base, name);
        float[] got = TinyWeights.host(c.weights(), name);
        long k = (long) Math.floor(sparsity * w.length);
        assertEquals(k, zeros(got), name + ": exactly k zeros when magnitudes are distinct");
        float[] want = k == 0 ? w : zeroAtOrBelow(w, naiveThreshold(w, k));
        assertArrayEquals(want, got, name);
        zeros += k;
        params += w.length;
      }
      assertEquals(params, c.report().parameters());
      assertEquals(zeros, c.report().zeros());
    }
  }

  @Test
  void tiesAtTheThresholdAreAllZeroed() {
    // 192 weights: magnitudes 1..6 repeated 32 times each, half of them negative. k = 57 falls
    // inside the second run (33..64), so all 64 weights with |w| <= 2 go.
    String qkv = linear.get(0);
    float[] w = new float[(int) (tiny.shape(qkv)[0] * tiny.shape(qkv)[1])];
    for (int i = 0; i < w.length; i++) {
      w[i] = (i % 6 + 1) * (i % 2 == 0 ? 1f : -1f);
    }
    try (Weights base = tiny.with(Map.of(qkv, w));
        Compressed c = new MagnitudePruning(0.3).apply(base)) {
      float[] got = TinyWeights.host(c.weights(), qkv);
      assertEquals(57, (long) Math.floor(0.3 * w.length));
      assertEquals(64, zeros(got));
      for (int i = 0; i < w.length; i++) {
        assertEquals(Math.abs(w[i]) <= 2 ? 0f : w[i], got[i], "index " + i);
      }
    }
  }

  @Test
  void globalUsesOneThresholdOverAllTargets() {
    // Layer 0's tensors are 100x smaller than layer 1's: a global threshold prunes them first.
    Random random = new Random(12);
    Map<String, float[]> values = new LinkedHashMap<>();
    for (String name : linear) {
      double std = name.contains("layers.0.") ? 0.01 : 1.0;
      values.put(
          name, TinyWeights.normal((int) (tiny.shape(name)[0] * tiny.shape(name)[1]), std, random));
    }
    float[] all = values.values().stream().reduce(new float[0], MagnitudePruningTest::concat);
    for (double sparsity : new double[] {0.3, 0.6}) {
      MagnitudePruning global = new MagnitudePruning(sparsity, true, Compression.DEFAULT_TARGETS);
      long k = (long) Math.floor(sparsity * all.length);
      float threshold = naiveThreshold(all, k);
      try (Weights base = tiny.with(values);
          Compressed c = global.apply(base);
          Compressed small = global.apply(base, new RowBlocks(24));
          Compressed perTensor = new MagnitudePruning(sparsity).apply(base)) {
        long zeros = 0;
        for (String name : linear) {
          float[] want = zeroAtOrBelow(values.get(name), threshold);
          assertArrayEquals(want, TinyWeights.host(c.weights(), name), name);
          assertArrayEquals(want, TinyWeights.host(small.weights(), name), name + " blocks");
          zeros += zeros(want);
        }
        assertEquals(k, zeros, "distinct magnitudes: exactly k zeros overall");
        assertEquals(c.report(), small.report());
        // Layer 0 holds half the weights: global takes nearly all of k from it, per tensor
        // takes the same fraction everywhere.
        assertTrue(
            sparsityOf(c, "layers.0.") > Math.min(1, 2 * sparsity) - 0.02,
            "global prunes the small layer first");
        assertEquals(sparsity, sparsityOf(perTensor, "layers.0."), 0.01, "per tensor does not");
      }
    }
  }

  private static double sparsityOf(Compressed c, String layer) {
    long zeros = 0;
    long n = 0;
    for (String name : linear) {
      if (name.contains(layer)) {
        float[] w = TinyWeights.host(c.weights(), name);
        zeros += zeros(w);
        n += w.length;
      }
    }
    return (double) zeros / n;
  }

  private static float[] concat(float[] a, float[] b) {
    float[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  @Test
  void zeroKLeavesTheWeightsAsTheyAre() {
    // floor(0.001 * 64) = 0 for the smallest tensor; sparsity 0 for all.
    for (MagnitudePruning p :
        List.of(
            new MagnitudePruning(0.0),
            new MagnitudePruning(0.001),
            new MagnitudePruning(0.0, true, Compression.DEFAULT_TARGETS))) {
      try (Compressed c = p.apply(tiny.model.weights())) {
        for (String name : linear) {
          float[] w = TinyWeights.host(tiny.model.weights(), name);
          long k = p.count(p.global() ? c.report().parameters() : w.length);
          if (k == 0) {
            assertArrayEquals(w, TinyWeights.host(c.weights(), name), p + " " + name);
          }
        }
        assertEquals(0.0, c.report().maxAbsError(), p.toString());
      }
    }
  }

  @Test
  void kthSmallestMatchesSorting() {
    Random random = new Random(13);
    float[] a = new float[300];
    for (int i = 0; i < a.length; i++) {
      // duplicates, both signs, zeros (+0 and -0), subnormals, a wide range of exponents
      a[i] =
          switch (i % 5) {
            case 0 ->
                (float) Math.pow(10, random.nextInt(20) - 10) * (random.nextBoolean() ? 1 : -1);
            case 1 -> random.nextInt(4) - 2;
            case 2 -> i % 10 == 2 ? -0f : 0f;
            case 3 -> Float.MIN_VALUE * random.nextInt(100);
            default -> (float) random.nextGaussian();
          };
    }
    try (NDManager m = tiny.root.newSubManager()) {
      NDArray x = m.create(Arrays.copyOf(a, 200), new Shape(20, 10));
      NDArray y = m.create(Arrays.copyOfRange(a, 200, 300), new Shape(100));
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      tensors.put("x", x);
      tensors.put("y", y);
      for (long k = 1; k <= a.length; k += 7) {
        // Gather limits: 1 bisects down to one value; 16 bisects, then sorts a few; 1 << 20
        // sorts everything at once.
        for (int gather : new int[] {1, 16, 1 << 20}) {
          assertEquals(
              naiveThreshold(a, k),
              KthSmallest.ofAbs(tensors, k, new RowBlocks(30), gather, m),
              "k = " + k + ", gather " + gather);
        }
      }
      assertEquals(
          naiveThreshold(a, a.length), KthSmallest.ofAbs(tensors, a.length, RowBlocks.DEFAULT, m));
      x.set(new ai.djl.ndarray.index.NDIndex("3, 4"), Float.NaN);
      for (int gather : new int[] {16, 1 << 20}) {
        String msg =
            assertThrows(
                    QdmException.class,
                    () -> KthSmallest.ofAbs(tensors, 5, RowBlocks.DEFAULT, gather, m))
                .getMessage();
        assertTrue(msg.contains("'x'") && msg.contains("NaN"), msg);
      }
    }
  }

  @Test
  void selectFindsEveryRank() {
    Random random = new Random(14);
    for (int n : new int[] {1, 2, 7, 100, 1000}) {
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = random.nextInt(3) == 0 ? 0f : random.nextInt(n / 3 + 1); // many duplicates
      }
      float[] sorted = v.clone();
      Arrays.sort(sorted);
      for (int r = 0; r < n; r++) {
        assertEquals(sorted[r], KthSmallest.select(v.clone(), r), "n " + n + " rank " + r);
      }
    }
  }

  @Test
  void rejectsBadSparsity() {
    for (double s : new double[] {-0.1, 1.0, 30, Double.NaN}) {
      String m = assertThrows(QdmException.class, () -> new MagnitudePruning(s)).getMessage();
      assertTrue(m.contains("[0, 1)"), m);
    }
  }
}
