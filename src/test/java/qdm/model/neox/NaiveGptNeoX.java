package qdm.model.neox;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import qdm.io.SafetensorsFile;

/**
 * A test oracle: the GPT-NeoX forward pass written as plainly as possible, one token and one head
 * at a time over Java arrays in double precision, from the definitions (transformers' {@code
 * GPTNeoXForCausalLM}, eager attention). It shares nothing with the DJL implementation but the
 * safetensors reader, which has its own tests.
 */
public final class NaiveGptNeoX {
  private final int hidden;
  private final int layers;
  private final int heads;
  private final int headDim;
  private final int rotaryDims;
  private final double base;
  private final double eps;
  private final boolean parallel;
  private final boolean tied;
  private final Map<String, float[]> w = new HashMap<>();

  /** The outputs of one sequence: hidden states [L+1][T][d], logits [T][V], nll [T-1]. */
  public record Output(double[][][] hiddenStates, double[][] logits, double[] nll) {}

  public NaiveGptNeoX(Path configFile, Path weightsFile) {
    JsonObject c;
    try {
      c = JsonParser.parseString(Files.readString(configFile)).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    hidden = c.get("hidden_size").getAsInt();
    layers = c.get("num_hidden_layers").getAsInt();
    heads = c.get("num_attention_heads").getAsInt();
    headDim = hidden / heads;
    rotaryDims = (int) (headDim * c.get("rotary_pct").getAsDouble());
    base = c.get("rotary_emb_base").getAsDouble();
    eps = c.get("layer_norm_eps").getAsDouble();
    parallel = c.get("use_parallel_residual").getAsBoolean();
    tied = c.has("tie_word_embeddings") && c.get("tie_word_embeddings").getAsBoolean();
    try (SafetensorsFile f = SafetensorsFile.open(weightsFile)) {
      for (String name : f.names()) {
        w.put(name, f.readFloats(name));
      }
    }
  }

  private float[] weight(String name) {
    float[] a = w.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no tensor " + name);
    }
    return a;
  }

  /** Runs one sequence of token ids. */
  public Output forward(long[] ids) {
    int seq = ids.length;
    float[] embed = weight("gpt_neox.embed_in.weight");
    double[][] x = new double[seq][hidden];
    for (int t = 0; t < seq; t++) {
      for (int i = 0; i < hidden; i++) {
        x[t][i] = embed[(int) ids[t] * hidden + i];
      }
    }
    return run(ids, x, 0);
  }

  /**
   * Runs one sequence from {@code residual} [T][d] standing for the output of block {@code layer},
   * i.e. with {@code blocks.<layer>.hook_resid_post} replaced (the CE-loss splice); the hidden
   * states before it are not computed (the residual stands in for each of them).
   */
  public Output forwardAfter(long[] ids, int layer, double[][] residual) {
    return run(ids, residual, layer + 1);
  }

  private Output run(long[] ids, double[][] x, int first) {
    int seq = ids.length;
    List<double[][]> states = new ArrayList<>();
    for (int l = 0; l <= first; l++) {
      states.add(x);
    }
    for (int l = first; l < layers; l++) {
      String p = "gpt_neox.layers." + l + ".";
      double[][] attn = attention(p, layerNorm(x, p + "input_layernorm."));
      double[][] out = new double[seq][hidden];
      if (parallel) {
        // x + attn(ln1(x)) + mlp(ln2(x))
        double[][] mlp = mlp(p, layerNorm(x, p + "post_attention_layernorm."));
        for (int t = 0; t < seq; t++) {
          for (int i = 0; i < hidden; i++) {
            out[t][i] = x[t][i] + attn[t][i] + mlp[t][i];
          }
        }
      } else {
        // a = x + attn(ln1(x)); a + mlp(ln2(a))
        double[][] a = new double[seq][hidden];
        for (int t = 0; t < seq; t++) {
          for (int i = 0; i < hidden; i++) {
            a[t][i] = x[t][i] + attn[t][i];
          }
        }
        double[][] mlp = mlp(p, layerNorm(a, p + "post_attention_layernorm."));
        for (int t = 0; t < seq; t++) {
          for (int i = 0; i < hidden; i++) {
            out[t][i] = a[t][i] + mlp[t][i];
          }
        }
      }
      x = out;
      states.add(x);
    }
    // the last hidden state has the final norm applied (transformers' output_hidden_states)
    double[][] normed = layerNorm(x, "gpt_neox.final_layer_norm.");
    states.set(layers, normed);
    float[] head = weight(tied ? "gpt_neox.embed_in.weight" : "embed_out.weight");
    double[][] logits = matVec(normed, head, null, head.length / hidden);
    double[] nll = new double[seq - 1];
    for (int t = 0; t < seq - 1; t++) {
      double max = Double.NEGATIVE_INFINITY;
      for (double v : logits[t]) {
        max = Math.max(max, v);
      }
      double sum = 0;
      for (double v : logits[t]) {
        sum += Math.exp(v - max);
      }
      nll[t] = max + Math.log(sum) - logits[t][(int) ids[t + 1]];
    }
    return new Output(states.toArray(new double[0][][]), logits, nll);
  }

  private double[][] layerNorm(double[][] x, String prefix) {
    float[] g = weight(prefix + "weight");
    float[] b = weight(prefix + "bias");
    double[][] out = new double[x.length][hidden];
    for (int t = 0; t < x.length; t++) {
      double mean = 0;
      for (double v : x[t]) {
        mean += v;
      }
      mean /= hidden;
      double var = 0;
      for (double v : x[t]) {
        var += (v - mean) * (v - mean);
      }
      var /= hidden; // biased variance, as torch.nn.LayerNorm
      double inv = 1 / Math.sqrt(var + eps);
      for (int i = 0; i < hidden; i++) {
        out[t][i] = (x[t][i] - mean) * inv * g[i] + b[i];
      }
    }
    return out;
  }

  /** {@code x W^T + b} for W of shape [out, in] (b may be null). */
  private double[][] matVec(double[][] x, float[] weight, float[] bias, int outDim) {
    int in = x[0].length;
    double[][] y = new double[x.length][outDim];
    for (int t = 0; t < x.length; t++) {
      for (int o = 0; o < outDim; o++) {
        double s = bias == null ? 0 : bias[o];
        for (int i = 0; i < in; i++) {
          s += x[t][i] * weight[o * in + i];
        }
        y[t][o] = s;
      }
    }
    return y;
  }

  private double[][] attention(String p, double[][] x) {
    int seq = x.length;
    double[][] qkv =
        matVec(
            x,
            weight(p + "attention.query_key_value.weight"),
            weight(p + "attention.query_key_value.bias"),
            3 * hidden);
    double[][] context = new double[seq][hidden];
    for (int h = 0; h < heads; h++) {
      // rows of head h in the fused output: q, then k, then v, each headDim wide
      int at = h * 3 * headDim;
      double[][] q = new double[seq][];
      double[][] k = new double[seq][];
      for (int t = 0; t < seq; t++) {
        q[t] = rotate(java.util.Arrays.copyOfRange(qkv[t], at, at + headDim), t);
        k[t] = rotate(java.util.Arrays.copyOfRange(qkv[t], at + headDim, at + 2 * headDim), t);
      }
      for (int i = 0; i < seq; i++) {
        // causal: query i sees keys 0..i
        double[] scores = new double[i + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) {
          double s = 0;
          for (int d = 0; d < headDim; d++) {
            s += q[i][d] * k[j][d];
          }
          scores[j] = s / Math.sqrt(headDim);
          max = Math.max(max, scores[j]);
        }
        double sum = 0;
        for (int j = 0; j <= i; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        for (int j = 0; j <= i; j++) {
          for (int d = 0; d < headDim; d++) {
            context[i][h * headDim + d] += scores[j] / sum * qkv[j][at + 2 * headDim + d];
          }
        }
      }
    }
    return matVec(
        context, weight(p + "attention.dense.weight"), weight(p + "attention.dense.bias"), hidden);
  }

  /** Rotary embedding of one head vector at position {@code pos}, rotate-half layout. */
  private double[] rotate(double[] v, int pos) {
    int half = rotaryDims / 2;
    double[] out = v.clone();
    for (int j = 0; j < half; j++) {
      double angle = pos * Math.pow(base, -2.0 * j / rotaryDims);
      double c = Math.cos(angle);
      double s = Math.sin(angle);
      out[j] = v[j] * c - v[j + half] * s;
      out[j + half] = v[j + half] * c + v[j] * s;
    }
    return out;
  }

  private double[][] mlp(String p, double[][] x) {
    double[][] up =
        matVec(
            x,
            weight(p + "mlp.dense_h_to_4h.weight"),
            weight(p + "mlp.dense_h_to_4h.bias"),
            weight(p + "mlp.dense_h_to_4h.bias").length);
    for (double[] row : up) {
      for (int i = 0; i < row.length; i++) {
        row[i] = 0.5 * row[i] * (1 + erf(row[i] / Math.sqrt(2))); // exact GELU
      }
    }
    return matVec(
        up, weight(p + "mlp.dense_4h_to_h.weight"), weight(p + "mlp.dense_4h_to_h.bias"), hidden);
  }

  /**
   * The error function: its Maclaurin series below |x| = 3 (terms stay under 10^3, so double keeps
   * about 13 digits), and above it the continued fraction of erfc, which converges fast there.
   */
  static double erf(double x) {
    double a = Math.abs(x);
    double r;
    if (a < 3) {
      // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
      double term = a; // (-1)^n x^(2n+1) / n!
      double sum = a;
      for (int n = 1; n < 100; n++) {
        term *= -a * a / n;
        double add = term / (2 * n + 1);
        sum += add;
        if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
          break;
        }
      }
      r = 2 / Math.sqrt(Math.PI) * sum;
    } else {
      // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
      double f = a;
      for (int n = 60; n >= 1; n--) {
        f = a + (n / 2.0) / f;
      }
      r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
    }
    return x < 0 ? -r : r;
  }
}
