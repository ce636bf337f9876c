package qdm.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import qdm.condition.ConditionSyntax;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.TorchEngine;
import qdm.model.Weights;
import qdm.testing.Reference;

/**
 * The paper's TransformerLens convention ({@code :tl}) against naive implementations of the
 * authors' rules written on the HF layout by index arithmetic: RTN with one scale per d_head index
 * of TL's W_Q / W_K / W_V [n_heads, d_model, d_head] (max over every head and d_model), and
 * magnitude pruning with one k-th-smallest threshold for each of W_Q, W_K, W_V of the fused
 * GPT-NeoX QKV.
 */
class TlConventionTest {
  private static final String QKV = "gpt_neox.layers.0.attention.query_key_value.weight";
  private static final int D = 8;
  private static final int HEADS = 2;
  private static final int DH = 4;

  /** HF row of (head i, part s in q|k|v, d_head index h) of the fused NeoX QKV. */
  private static int row(int i, int s, int h) {
    return (i * 3 + s) * DH + h;
  }

  private static Weights randomQkv(TinyWeights t, long seed) {
    Random r = new Random(seed);
    return t.withLinear((name, n) -> TinyWeights.normal(n, 0.5, r));
  }

  @Test
  void rtnTlHasOneScalePerDHeadIndexAndMatchesANaiveQuantization() {
    try (TinyWeights t = new TinyWeights(1, DataType.FLOAT32);
        Weights base = randomQkv(t, 3);
        Compressed tl = ConditionSyntax.compression("rtn:4:tl").apply(base);
        Compressed hf = ConditionSyntax.compression("rtn:4").apply(base)) {
      float[] w = TinyWeights.host(base, QKV);
      float[] got = TinyWeights.host(tl.weights(), QKV);
      int qmax = 7;
      Set<Float> scales = new HashSet<>();
      for (int s = 0; s < 3; s++) {
        for (int h = 0; h < DH; h++) {
          float max = 0;
          for (int i = 0; i < HEADS; i++) {
            for (int m = 0; m < D; m++) {
              max = Math.max(max, Math.abs(w[row(i, s, h) * D + m]));
            }
          }
          float scale = max / qmax;
          if (s == 0) {
            scales.add(scale);
          }
          for (int i = 0; i < HEADS; i++) {
            for (int m = 0; m < D; m++) {
              int at = row(i, s, h) * D + m;
              float q = Math.max(-8, Math.min(qmax, (float) Math.rint(w[at] / scale)));
              assertEquals(
                  q * scale,
                  got[at],
                  0f,
                  "(head " + i + ", part " + s + ", h " + h + ", m " + m + ")");
            }
          }
        }
      }
      assertEquals(DH, scales.size(), "W_Q has one scale per d_head index");
      // the HF convention takes one per row (head and d_head index): the two differ
      assertTrue(!Arrays.equals(got, TinyWeights.host(hf.weights(), QKV)));
      assertEquals("rtn4-tl", ConditionSyntax.parse("rtn:4:tl").name());
    }
  }

  @Test
  void pruneTlThresholdsWqWkWvSeparately() {
    try (TinyWeights t = new TinyWeights(1, DataType.FLOAT32);
        Weights base = randomQkv(t, 5);
        Compressed tl = ConditionSyntax.compression("prune:0.3:tl").apply(base)) {
      float[] w = TinyWeights.host(base, QKV);
      float[] got = TinyWeights.host(tl.weights(), QKV);
      for (int s = 0; s < 3; s++) {
        float[] part = new float[HEADS * DH * D];
        int n = 0;
        for (int i = 0; i < HEADS; i++) {
          for (int h = 0; h < DH; h++) {
            for (int m = 0; m < D; m++) {
              part[n++] = Math.abs(w[row(i, s, h) * D + m]);
            }
          }
        }
        float[] sorted = part.clone();
        Arrays.sort(sorted);
        int k = (int) Math.floor(0.3 * part.length);
        float threshold = sorted[k - 1];
        for (int i = 0; i < HEADS; i++) {
          for (int h = 0; h < DH; h++) {
            for (int m = 0; m < D; m++) {
              int at = row(i, s, h) * D + m;
              assertEquals(Math.abs(w[at]) > threshold ? w[at] : 0f, got[at], 0f, "part " + s);
            }
          }
        }
      }
      assertEquals("prune30-tl", ConditionSyntax.parse("prune:0.3:tl").name());
    }
  }

  @Test
  void tensorsWhoseRowsAreTlChannelsAreCompressedAsUnderHf() {
    try (TinyWeights t = new TinyWeights(1, DataType.FLOAT32);
        Weights base = randomQkv(t, 7);
        Compressed tl = ConditionSyntax.compression("rtn:5:tl").apply(base);
        Compressed hf = ConditionSyntax.compression("rtn:5").apply(base)) {
      for (String name :
          new String[] {
            "gpt_neox.layers.0.attention.dense.weight",
            "gpt_neox.layers.0.mlp.dense_h_to_4h.weight",
            "gpt_neox.layers.0.mlp.dense_4h_to_h.weight"
          }) {
        assertTrue(
            Arrays.equals(
                TinyWeights.host(hf.weights(), name), TinyWeights.host(tl.weights(), name)),
            name);
      }
    }
  }

  /** Gemma-2 (GQA): q_proj [n*dh, d] and k_proj [kv*dh, d] as TL's W_Q and _W_K. */
  @Test
  void gemma2ProjectionsShareAScaleAcrossHeads() {
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model m =
            Model.load(
                ModelFiles.of(Reference.model("gemma2")), root, Device.cpu(), DataType.FLOAT32);
        Compressed tl = ConditionSyntax.compression("rtn:6:tl").apply(m.weights())) {
      int d = 64;
      int dh = 16;
      for (String[] p : new String[][] {{"q_proj", "4"}, {"k_proj", "2"}}) {
        String name = "model.layers.1.self_attn." + p[0] + ".weight";
        int heads = Integer.parseInt(p[1]);
        float[] w = TinyWeights.host(m.weights(), name);
        float[] got = TinyWeights.host(tl.weights(), name);
        for (int h = 0; h < dh; h++) {
          float max = 0;
          for (int i = 0; i < heads; i++) {
            for (int c = 0; c < d; c++) {
              max = Math.max(max, Math.abs(w[(i * dh + h) * d + c]));
            }
          }
          float scale = max / 31;
          for (int i = 0; i < heads; i++) {
            for (int c = 0; c < d; c++) {
              int at = (i * dh + h) * d + c;
              float q = Math.max(-32, Math.min(31, (float) Math.rint(w[at] / scale)));
              assertEquals(q * scale, got[at], 0f, name + " head " + i + " h " + h);
            }
          }
        }
      }
    }
  }
}
