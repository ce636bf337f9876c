package qdm.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import qdm.QdmException;
import qdm.io.Floats;
import qdm.model.TensorRole;
import qdm.model.Weights;

/**
 * RTN against a naive float32 Java implementation of the formulas (Math.rint is half-to-even), and
 * the properties that must hold whatever the weights: at most 2^b levels per row or group, error at
 * most scale/2, idempotence, zero rows stay zero.
 */
class RtnTest {
  static TinyWeights tiny;

  @BeforeAll
  static void open() {
    tiny = new TinyWeights(2, DataType.FLOAT32);
  }

  @AfterAll
  static void close() {
    tiny.close();
  }

  /** The reference formulas, element by element in Java float32. */
  static float[] naive(float[] w, int rowLength, int bits, int group, boolean asym) {
    int g = group == 0 ? rowLength : group;
    float[] out = new float[w.length];
    for (int start = 0; start < w.length; start += g) {
      if (asym) {
        float maxq = (1 << bits) - 1;
        float xmin = 0;
        float xmax = 0;
        for (int i = start; i < start + g; i++) {
          xmin = Math.min(xmin, w[i]);
          xmax = Math.max(xmax, w[i]);
        }
        if (xmin == 0 && xmax == 0) {
          xmin = -1;
          xmax = 1;
        }
        float scale = (xmax - xmin) / maxq;
        float zero = (float) Math.rint(-xmin / scale);
        for (int i = start; i < start + g; i++) {
          float q = (float) Math.rint(w[i] / scale) + zero;
          q = Math.max(0, Math.min(maxq, q));
          out[i] = scale * (q - zero);
        }
      } else {
        int qmax = (1 << (bits - 1)) - 1;
        int qmin = -(1 << (bits - 1));
        float max = 0;
        for (int i = start; i < start + g; i++) {
          max = Math.max(max, Math.abs(w[i]));
        }
        float scale = max / qmax;
        if (scale == 0) {
          scale = 1;
        }
        for (int i = start; i < start + g; i++) {
          float q = (float) Math.max(qmin, Math.min(qmax, Math.rint(w[i] / scale)));
          out[i] = q * scale;
        }
      }
    }
    return out;
  }

  /** Quantizes one float32 matrix with {@link Rtn#quantize}. */
  static float[] quantize(Rtn rtn, float[] w, int rows, int rowLength) {
    try (NDManager m = tiny.root.newSubManager()) {
      NDArray a = m.create(w, new Shape(rows, rowLength));
      return rtn.quantize(a).toFloatArray();
    }
  }

  @Test
  void roundsHalfToEven() {
    // bits 4: qmax 7; the 7 makes scale exactly 1, so w / scale = w.
    float[] w = {7f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, 4.5f, 5.5f, 6.5f, -3.5f};
    float[] want = {7f, 0f, 2f, 2f, -0f, -2f, -2f, 4f, 4f, 6f, 6f, -4f};
    assertArrayEquals(want, quantize(new Rtn(4), w, 1, w.length));
    // Asymmetric: [-0.5, 7] at 4 bits has scale 0.5 and zero 1; w / scale = .5 steps too.
    float[] a = {-0.5f, 7f, 0.25f, 0.75f, 1.25f, 1.75f, -0.25f};
    float[] wantA = {-0.5f, 7f, 0f, 1f, 1f, 2f, 0f};
    assertArrayEquals(
        wantA, quantize(new Rtn(4, 0, true, Compression.DEFAULT_TARGETS), a, 1, a.length));
  }

  @ParameterizedTest(name = "bits {0} group {1} asym {2}")
  @CsvSource({
    "2,0,false",
    "3,0,false",
    "4,0,false",
    "8,0,false",
    "4,4,false",
    "5,2,false",
    "2,0,true",
    "4,0,true",
    "8,0,true",
    "4,4,true",
    "3,8,true"
  })
  void matchesNaiveAndHoldsProperties(int bits, int group, boolean asym) {
    Rtn rtn = new Rtn(bits, group, asym, Compression.DEFAULT_TARGETS);
    Random random = new Random(bits * 100 + group * 10 + (asym ? 1 : 0));
    int rows = 6;
    int rowLength = 16;
    for (float[] w :
        List.of(
            TinyWeights.normal(rows * rowLength, 1.0, random),
            adversarial(rows, rowLength, random))) {
      float[] got = quantize(rtn, w, rows, rowLength);
      assertArrayEquals(naive(w, rowLength, bits, group, asym), got, rtn + " vs naive");
      int g = group == 0 ? rowLength : group;
      for (int start = 0; start < w.length; start += g) {
        Set<Float> levels = new HashSet<>();
        boolean allZero = true;
        float max = 0;
        float min = 0;
        for (int i = start; i < start + g; i++) {
          levels.add(got[i] + 0f); // -0 and 0 are one level
          allZero &= w[i] == 0;
          max = Math.max(max, w[i]);
          min = Math.min(min, w[i]);
        }
        assertTrue(levels.size() <= (1 << bits), levels.size() + " levels at " + start);
        float scale =
            asym ? (max - min) / ((1 << bits) - 1) : Math.max(max, -min) / ((1 << (bits - 1)) - 1);
        for (int i = start; i < start + g; i++) {
          if (allZero) {
            assertEquals(0f, got[i], "zero group stays zero");
          } else {
            // Every value is inside the grid's range here, so the error is half a step at most.
            assertTrue(
                Math.abs(w[i] - got[i]) <= scale / 2 * (1 + 1e-5),
                "|" + w[i] + " - " + got[i] + "| > scale/2 = " + scale / 2);
          }
          if (asym && w[i] == 0) {
            assertEquals(0f, got[i] + 0f, "the zero point keeps exact zeros");
          }
        }
      }
      float[] twice = quantize(rtn, got, rows, rowLength);
      for (int i = 0; i < got.length; i++) {
        // Requantizing recomputes the scale from w_hat, which may differ in the last bit.
        assertEquals(got[i], twice[i], Math.ulp(got[i]) * 2, "idempotent at " + i);
      }
    }
  }

  /** Rows meant to break things: zeros, an outlier, constants, one sign, half steps, subnormal. */
  static float[] adversarial(int rows, int rowLength, Random random) {
    float[] w = new float[rows * rowLength];
    for (int i = 0; i < rowLength; i++) {
      w[rowLength + i] = i == 3 ? 1000f : (float) random.nextGaussian() * 1e-3f;
      w[2 * rowLength + i] = 0.25f;
      w[3 * rowLength + i] = -Math.abs((float) random.nextGaussian());
      w[4 * rowLength + i] = (i - rowLength / 2) + 0.5f;
      w[5 * rowLength + i] = i % 2 == 0 ? Float.MIN_NORMAL * i : 0f;
    }
    return w; // row 0 stays all zero
  }

  @Test
  void quantizesOnlyTheTargetsAndSharesTheRest() {
    Random random = new Random(3);
    try (Weights base = tiny.withLinear((name, n) -> TinyWeights.normal(n, 0.3, random));
        Compressed c = new Rtn(3).apply(base)) {
      for (String name : base.names()) {
        boolean target = base.role(name) == TensorRole.DECODER_LINEAR;
        if (!target) {
          assertTrue(c.weights().get(name) == base.get(name), name + " is shared");
          continue;
        }
        long[] shape = tiny.shape(name);
        float[] w = TinyWeights.host(base, name);
        assertArrayEquals(
            naive(w, (int) shape[1], 3, 0, false), TinyWeights.host(c.weights(), name), name);
      }
    }
  }

  @Test
  void blocksOfRowsGiveTheSameResult() {
    Random random = new Random(4);
    Rtn rtn = new Rtn(4, 4, true, Compression.DEFAULT_TARGETS);
    try (Weights base = tiny.withLinear((name, n) -> TinyWeights.normal(n, 0.3, random));
        Compressed whole = rtn.apply(base);
        Compressed blocks = rtn.apply(base, new RowBlocks(20))) {
      for (String name : tiny.names(TensorRole.DECODER_LINEAR)) {
        assertArrayEquals(
            TinyWeights.host(whole.weights(), name),
            TinyWeights.host(blocks.weights(), name),
            name);
        assertArrayEquals(tiny.shape(name), blocks.weights().get(name).getShape().getShape());
      }
      assertEquals(whole.report(), blocks.report());
    }
  }

  @Test
  void float16WeightsAreQuantizedInFloat32AndCastBack() {
    try (TinyWeights half = new TinyWeights(1, DataType.FLOAT16)) {
      Random random = new Random(5);
      try (Weights base = half.withLinear((name, n) -> TinyWeights.normal(n, 0.3, random));
          Compressed c = new Rtn(5).apply(base)) {
        for (String name : half.names(TensorRole.DECODER_LINEAR)) {
          assertEquals(DataType.FLOAT16, c.weights().get(name).getDataType(), name);
          float[] w = TinyWeights.host(base, name);
          float[] want = naive(w, (int) half.shape(name)[1], 5, 0, false);
          float[] got = TinyWeights.host(c.weights(), name);
          for (int i = 0; i < want.length; i++) {
            assertEquals(Floats.f16ToFloat(Floats.floatToF16(want[i])), got[i], name + " " + i);
          }
        }
      }
    }
  }

  @Test
  void rejectsBadParameters() {
    assertTrue(
        assertThrows(QdmException.class, () -> new Rtn(1))
            .getMessage()
            .contains("between 2 and 8, got 1"));
    assertTrue(
        assertThrows(QdmException.class, () -> new Rtn(9))
            .getMessage()
            .contains("between 2 and 8, got 9"));
    assertThrows(QdmException.class, () -> new Rtn(4, -1, false, Compression.DEFAULT_TARGETS));
    assertThrows(QdmException.class, () -> new Rtn(4, 0, false, Set.of()));
    assertThrows(QdmException.class, () -> new Rtn(4, 0, false, Set.of(TensorRole.NORM)));
    // Row lengths here are 8 and 16: a group of 3 divides neither, 16 only the longer rows.
    Rtn g3 = new Rtn(4, 3, false, Compression.DEFAULT_TARGETS);
    String m = assertThrows(QdmException.class, () -> g3.apply(tiny.model.weights())).getMessage();
    assertTrue(m.contains("group size 3") && m.contains("gpt_neox.layers.0.attention"), m);
    Rtn g16 = new Rtn(4, 16, false, Compression.DEFAULT_TARGETS);
    m = assertThrows(QdmException.class, () -> g16.apply(tiny.model.weights())).getMessage();
    assertTrue(m.contains("row length 8") && m.contains("query_key_value.weight"), m);
  }

  @Test
  void embeddingAndHeadAreTargetsOnRequest() {
    Rtn all = new Rtn(8, 0, false, Set.of(TensorRole.EMBEDDING, TensorRole.LM_HEAD));
    try (Compressed c = all.apply(tiny.model.weights())) {
      assertEquals(List.of("gpt_neox.embed_in.weight", "embed_out.weight"), c.report().tensors());
      for (String name : tiny.model.weights().names()) {
        TensorRole role = tiny.model.weights().role(name);
        boolean target = role == TensorRole.EMBEDDING || role == TensorRole.LM_HEAD;
        assertEquals(!target, c.weights().get(name) == tiny.model.weights().get(name), name);
      }
    }
  }
}
