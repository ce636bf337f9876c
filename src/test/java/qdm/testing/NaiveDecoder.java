package qdm.testing;

import java.util.Map;

/**
 * The Llama-family and Gemma-1 decoder written a second time as plain loops in double, one token at
 * a time, from the transformers source's definitions: RMSNorm (w, or 1 + w for Gemma), q/k/v
 * projections with optional biases, rotate-half RoPE with the default frequencies, grouped-query
 * attention under a causal (and optionally sliding-window) mask, SwiGLU / GELU-tanh gated MLP, tied
 * or untied head. An oracle for the NDArray forward passes of models without a Hugging Face
 * reference fixture.
 */
public final class NaiveDecoder {
  private NaiveDecoder() {}

  /** Hidden states (HF's output_hidden_states: L + 1 entries, the last final-normed) and logits. */
  public record Output(double[][][] hidden, double[][] logits) {}

  public static Output run(Map<String, float[]> t, TinyModels.Spec s, int[] ids) {
    int d = TinyModels.D;
    int seq = ids.length;
    int layers = s.layers();
    double[][][] hidden = new double[layers + 1][][];
    double[][] x = new double[seq][d];
    float[] embed = t.get("model.embed_tokens.weight");
    for (int p = 0; p < seq; p++) {
      for (int j = 0; j < d; j++) {
        x[p][j] =
            s.gemma()
                ? (double) (embed[ids[p] * d + j] * (float) Math.sqrt(d))
                : embed[ids[p] * d + j];
      }
    }
    hidden[0] = copy(x);
    for (int l = 0; l < layers; l++) {
      String pre = "model.layers." + l + ".";
      double[][] attn = attention(t, s, pre, x);
      double[][] h = new double[seq][d];
      for (int p = 0; p < seq; p++) {
        for (int j = 0; j < d; j++) {
          h[p][j] = x[p][j] + attn[p][j];
        }
      }
      double[][] out = new double[seq][];
      for (int p = 0; p < seq; p++) {
        double[] n = rms(h[p], t.get(pre + "post_attention_layernorm.weight"), s.gemma());
        double[] gate =
            linear(
                n,
                t.get(pre + "mlp.gate_proj.weight"),
                t.get(pre + "mlp.gate_proj.bias"),
                TinyModels.FF);
        double[] up =
            linear(
                n,
                t.get(pre + "mlp.up_proj.weight"),
                t.get(pre + "mlp.up_proj.bias"),
                TinyModels.FF);
        double[] act = new double[TinyModels.FF];
        for (int f = 0; f < act.length; f++) {
          act[f] = (s.gemma() ? geluTanh(gate[f]) : gate[f] / (1 + Math.exp(-gate[f]))) * up[f];
        }
        double[] down =
            linear(act, t.get(pre + "mlp.down_proj.weight"), t.get(pre + "mlp.down_proj.bias"), d);
        out[p] = new double[d];
        for (int j = 0; j < d; j++) {
          out[p][j] = h[p][j] + down[j];
        }
      }
      x = out;
      if (l < layers - 1) {
        hidden[l + 1] = copy(x);
      }
    }
    double[][] normed = new double[seq][];
    for (int p = 0; p < seq; p++) {
      normed[p] = rms(x[p], t.get("model.norm.weight"), s.gemma());
    }
    hidden[layers] = normed;
    float[] head = t.getOrDefault("lm_head.weight", embed);
    double[][] logits = new double[seq][];
    for (int p = 0; p < seq; p++) {
      logits[p] = linear(normed[p], head, null, TinyModels.VOCAB);
    }
    return new Output(hidden, logits);
  }

  private static double[][] attention(
      Map<String, float[]> t, TinyModels.Spec s, String pre, double[][] x) {
    int d = TinyModels.D;
    int heads = TinyModels.HEADS;
    int kvHeads = s.kvHeads();
    int dh = TinyModels.HEAD_DIM;
    int seq = x.length;
    double[][][] q = new double[seq][][];
    double[][][] k = new double[seq][][];
    double[][][] v = new double[seq][][];
    for (int p = 0; p < seq; p++) {
      double[] n = rms(x[p], t.get(pre + "input_layernorm.weight"), s.gemma());
      q[p] =
          rope(
              split(
                  linear(
                      n,
                      t.get(pre + "self_attn.q_proj.weight"),
                      t.get(pre + "self_attn.q_proj.bias"),
                      heads * dh),
                  heads,
                  dh),
              p);
      k[p] =
          rope(
              split(
                  linear(
                      n,
                      t.get(pre + "self_attn.k_proj.weight"),
                      t.get(pre + "self_attn.k_proj.bias"),
                      kvHeads * dh),
                  kvHeads,
                  dh),
              p);
      v[p] =
          split(
              linear(
                  n,
                  t.get(pre + "self_attn.v_proj.weight"),
                  t.get(pre + "self_attn.v_proj.bias"),
                  kvHeads * dh),
              kvHeads,
              dh);
    }
    double[][] out = new double[seq][];
    for (int i = 0; i < seq; i++) {
      double[] context = new double[heads * dh];
      for (int h = 0; h < heads; h++) {
        int g = h / (heads / kvHeads);
        double[] scores = new double[seq];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < seq; j++) {
          boolean visible = j <= i && (s.slidingWindow() <= 0 || i - s.slidingWindow() < j);
          if (!visible) {
            scores[j] = Double.NEGATIVE_INFINITY;
            continue;
          }
          double dot = 0;
          for (int c = 0; c < dh; c++) {
            dot += q[i][h][c] * k[j][g][c];
          }
          scores[j] = dot / Math.sqrt(dh);
          max = Math.max(max, scores[j]);
        }
        double sum = 0;
        for (int j = 0; j < seq; j++) {
          scores[j] = scores[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(scores[j] - max);
          sum += scores[j];
        }
        for (int j = 0; j < seq; j++) {
          for (int c = 0; c < dh; c++) {
            context[h * dh + c] += scores[j] / sum * v[j][g][c];
          }
        }
      }
      out[i] =
          linear(
              context,
              t.get(pre + "self_attn.o_proj.weight"),
              t.get(pre + "self_attn.o_proj.bias"),
              d);
    }
    return out;
  }

  /** Rotate-half RoPE over every dimension of each head, default frequencies, base 10000. */
  private static double[][] rope(double[][] x, int position) {
    int dh = x[0].length;
    int half = dh / 2;
    double[][] out = new double[x.length][dh];
    for (int h = 0; h < x.length; h++) {
      for (int j = 0; j < half; j++) {
        double inv = 1.0 / Math.pow(10000, 2.0 * j / dh);
        double angle = position * inv;
        double c = Math.cos(angle);
        double sn = Math.sin(angle);
        out[h][j] = x[h][j] * c - x[h][j + half] * sn;
        out[h][j + half] = x[h][j + half] * c + x[h][j] * sn;
      }
    }
    return out;
  }

  private static double[][] split(double[] x, int heads, int dh) {
    double[][] out = new double[heads][dh];
    for (int h = 0; h < heads; h++) {
      System.arraycopy(x, h * dh, out[h], 0, dh);
    }
    return out;
  }

  private static double[] rms(double[] x, float[] w, boolean onePlus) {
    double ms = 0;
    for (double v : x) {
      ms += v * v;
    }
    double scale = 1 / Math.sqrt(ms / x.length + 1e-6);
    double[] out = new double[x.length];
    for (int j = 0; j < x.length; j++) {
      out[j] = x[j] * scale * (onePlus ? 1 + w[j] : w[j]);
    }
    return out;
  }

  private static double[] linear(double[] x, float[] w, float[] b, int out) {
    int in = x.length;
    double[] y = new double[out];
    for (int o = 0; o < out; o++) {
      double acc = b == null ? 0 : b[o];
      for (int i = 0; i < in; i++) {
        acc += w[o * in + i] * x[i];
      }
      y[o] = acc;
    }
    return y;
  }

  private static double geluTanh(double x) {
    return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
  }

  private static double[][] copy(double[][] x) {
    double[][] c = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      c[i] = x[i].clone();
    }
    return c;
  }
}
