package qdm.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * TransformerLens's weight processing written a second time, independently of the NDArray code: the
 * HF tensors are moved into TransformerLens's own layout by explicit index arithmetic ({@code
 * W_Q[head][d_model][d_head]}, {@code W_O[head][d_head][d_model]}, {@code W_in[d_model][d_mlp]},
 * {@code W_U[d_model][vocab]}...), TL's formulas are applied there in plain loops with double
 * accumulators, and the results are moved back to HF names. An oracle for the folding, the centring
 * and the HF-to-TL index mapping at once.
 */
final class NaiveTlProcessing {
  private NaiveTlProcessing() {}

  /** GPT-NeoX, as TL's fold_ln, center_writing_weights, center_unembed, fold_value_biases. */
  static Map<String, float[]> neox(
      Map<String, float[]> hf, int layers, int d, int heads, int ff, int vocab, boolean tied) {
    int dh = d / heads;
    Map<String, float[]> out = new LinkedHashMap<>(hf);
    double[][] wE = new double[vocab][d];
    float[] embed = hf.get("gpt_neox.embed_in.weight");
    for (int t = 0; t < vocab; t++) {
      for (int m = 0; m < d; m++) {
        wE[t][m] = embed[t * d + m];
      }
    }
    for (int l = 0; l < layers; l++) {
      String p = "gpt_neox.layers." + l + ".";
      float[] qkv = hf.get(p + "attention.query_key_value.weight");
      float[] qkvb = hf.get(p + "attention.query_key_value.bias");
      float[] dense = hf.get(p + "attention.dense.weight");
      float[] denseb = hf.get(p + "attention.dense.bias");
      float[] up = hf.get(p + "mlp.dense_h_to_4h.weight");
      float[] upb = hf.get(p + "mlp.dense_h_to_4h.bias");
      float[] down = hf.get(p + "mlp.dense_4h_to_h.weight");
      float[] downb = hf.get(p + "mlp.dense_4h_to_h.bias");
      float[] ln1w = hf.get(p + "input_layernorm.weight");
      float[] ln1b = hf.get(p + "input_layernorm.bias");
      float[] ln2w = hf.get(p + "post_attention_layernorm.weight");
      float[] ln2b = hf.get(p + "post_attention_layernorm.bias");
      // TL layout: W[qkv][head][m][h], b[qkv][head][h]; HF row of (head, qkv, h) is
      // (head * 3 + qkv) * dh + h
      double[][][][] w = new double[3][heads][d][dh];
      double[][][] b = new double[3][heads][dh];
      for (int s = 0; s < 3; s++) {
        for (int i = 0; i < heads; i++) {
          for (int h = 0; h < dh; h++) {
            int row = (i * 3 + s) * dh + h;
            b[s][i][h] = qkvb[row];
            for (int m = 0; m < d; m++) {
              w[s][i][m][h] = qkv[row * d + m];
            }
          }
        }
      }
      // fold ln1: biases with the unscaled weights, then scale, then centre over d_model
      for (int s = 0; s < 3; s++) {
        for (int i = 0; i < heads; i++) {
          for (int h = 0; h < dh; h++) {
            double acc = 0;
            for (int m = 0; m < d; m++) {
              acc += w[s][i][m][h] * ln1b[m];
            }
            b[s][i][h] += acc;
            double mean = 0;
            for (int m = 0; m < d; m++) {
              w[s][i][m][h] *= ln1w[m];
              mean += w[s][i][m][h];
            }
            mean /= d;
            for (int m = 0; m < d; m++) {
              w[s][i][m][h] -= mean;
            }
          }
        }
      }
      // W_in [m][f]
      double[][] wIn = new double[d][ff];
      double[] bIn = new double[ff];
      for (int f = 0; f < ff; f++) {
        bIn[f] = upb[f];
        for (int m = 0; m < d; m++) {
          wIn[m][f] = up[f * d + m];
        }
      }
      for (int f = 0; f < ff; f++) {
        double acc = 0;
        double mean = 0;
        for (int m = 0; m < d; m++) {
          acc += wIn[m][f] * ln2b[m];
        }
        bIn[f] += acc;
        for (int m = 0; m < d; m++) {
          wIn[m][f] *= ln2w[m];
          mean += wIn[m][f];
        }
        mean /= d;
        for (int m = 0; m < d; m++) {
          wIn[m][f] -= mean;
        }
      }
      // W_O [head][h][m], W_out [f][m]: centre over d_model (center_writing_weights)
      double[][][] wO = new double[heads][dh][d];
      for (int i = 0; i < heads; i++) {
        for (int h = 0; h < dh; h++) {
          double mean = 0;
          for (int m = 0; m < d; m++) {
            wO[i][h][m] = dense[m * d + i * dh + h];
            mean += wO[i][h][m];
          }
          mean /= d;
          for (int m = 0; m < d; m++) {
            wO[i][h][m] -= mean;
          }
        }
      }
      double[] bO = centred(denseb);
      double[][] wOut = new double[ff][d];
      for (int f = 0; f < ff; f++) {
        double mean = 0;
        for (int m = 0; m < d; m++) {
          wOut[f][m] = down[m * ff + f];
          mean += wOut[f][m];
        }
        mean /= d;
        for (int m = 0; m < d; m++) {
          wOut[f][m] -= mean;
        }
      }
      double[] bOut = centred(downb);
      // fold_value_biases: b_O += sum_{head, h} b_V[head][h] W_O[head][h][:]; b_V = 0
      for (int m = 0; m < d; m++) {
        double acc = 0;
        for (int i = 0; i < heads; i++) {
          for (int h = 0; h < dh; h++) {
            acc += b[2][i][h] * wO[i][h][m];
          }
        }
        bO[m] += acc;
      }
      for (int i = 0; i < heads; i++) {
        java.util.Arrays.fill(b[2][i], 0);
      }
      // back to HF
      float[] qkvOut = new float[qkv.length];
      float[] qkvbOut = new float[qkvb.length];
      for (int s = 0; s < 3; s++) {
        for (int i = 0; i < heads; i++) {
          for (int h = 0; h < dh; h++) {
            int row = (i * 3 + s) * dh + h;
            qkvbOut[row] = (float) b[s][i][h];
            for (int m = 0; m < d; m++) {
              qkvOut[row * d + m] = (float) w[s][i][m][h];
            }
          }
        }
      }
      float[] denseOut = new float[dense.length];
      for (int i = 0; i < heads; i++) {
        for (int h = 0; h < dh; h++) {
          for (int m = 0; m < d; m++) {
            denseOut[m * d + i * dh + h] = (float) wO[i][h][m];
          }
        }
      }
      float[] upOut = new float[up.length];
      float[] downOut = new float[down.length];
      for (int f = 0; f < ff; f++) {
        for (int m = 0; m < d; m++) {
          upOut[f * d + m] = (float) wIn[m][f];
          downOut[m * ff + f] = (float) wOut[f][m];
        }
      }
      out.put(p + "attention.query_key_value.weight", qkvOut);
      out.put(p + "attention.query_key_value.bias", qkvbOut);
      out.put(p + "attention.dense.weight", denseOut);
      out.put(p + "attention.dense.bias", floats(bO));
      out.put(p + "mlp.dense_h_to_4h.weight", upOut);
      out.put(p + "mlp.dense_h_to_4h.bias", floats(bIn));
      out.put(p + "mlp.dense_4h_to_h.weight", downOut);
      out.put(p + "mlp.dense_4h_to_h.bias", floats(bOut));
      ones(out, p + "input_layernorm.", d);
      ones(out, p + "post_attention_layernorm.", d);
    }
    // W_E: centre over d_model
    float[] embedOut = new float[embed.length];
    for (int t = 0; t < vocab; t++) {
      double mean = 0;
      for (int m = 0; m < d; m++) {
        mean += wE[t][m];
      }
      mean /= d;
      for (int m = 0; m < d; m++) {
        embedOut[t * d + m] = (float) (wE[t][m] - mean);
      }
    }
    out.put("gpt_neox.embed_in.weight", embedOut);
    // unembedding W_U [m][v], b_U [v]: fold ln_final, centre over d_model, then over the vocab
    float[] head = hf.get(tied ? "gpt_neox.embed_in.weight" : "embed_out.weight");
    float[] lnfw = hf.get("gpt_neox.final_layer_norm.weight");
    float[] lnfb = hf.get("gpt_neox.final_layer_norm.bias");
    double[][] wU = new double[d][vocab];
    double[] bU = new double[vocab];
    for (int v = 0; v < vocab; v++) {
      double acc = 0;
      for (int m = 0; m < d; m++) {
        wU[m][v] = head[v * d + m];
        acc += wU[m][v] * lnfb[m];
      }
      bU[v] = acc;
      double mean = 0;
      for (int m = 0; m < d; m++) {
        wU[m][v] *= lnfw[m];
        mean += wU[m][v];
      }
      mean /= d;
      for (int m = 0; m < d; m++) {
        wU[m][v] -= mean;
      }
    }
    for (int m = 0; m < d; m++) {
      double mean = 0;
      for (int v = 0; v < vocab; v++) {
        mean += wU[m][v];
      }
      mean /= vocab;
      for (int v = 0; v < vocab; v++) {
        wU[m][v] -= mean;
      }
    }
    bU = centred(bU);
    float[] headOut = new float[vocab * d];
    for (int v = 0; v < vocab; v++) {
      for (int m = 0; m < d; m++) {
        headOut[v * d + m] = (float) wU[m][v];
      }
    }
    out.put("embed_out.weight", headOut);
    out.put("embed_out.bias", floats(bU));
    ones(out, "gpt_neox.final_layer_norm.", d);
    return out;
  }

  /**
   * Gemma-2, as TL processes an RMSNorm model: 1 + w of the input, pre-feedforward and final norms
   * folded into the columns of Q/K/V, gate/up and the unembedding; no centring (the logits are
   * soft-capped); the folded norms' weights become 0.
   */
  static Map<String, float[]> gemma2(Map<String, float[]> hf, int layers, int d, int vocab) {
    Map<String, float[]> out = new LinkedHashMap<>(hf);
    for (int l = 0; l < layers; l++) {
      String p = "model.layers." + l + ".";
      scaleColumns(
          out,
          hf,
          p + "input_layernorm.weight",
          d,
          p + "self_attn.q_proj.weight",
          p + "self_attn.k_proj.weight",
          p + "self_attn.v_proj.weight");
      scaleColumns(
          out,
          hf,
          p + "pre_feedforward_layernorm.weight",
          d,
          p + "mlp.gate_proj.weight",
          p + "mlp.up_proj.weight");
    }
    float[] head = hf.getOrDefault("lm_head.weight", hf.get("model.embed_tokens.weight"));
    Map<String, float[]> withHead = new LinkedHashMap<>(hf);
    withHead.put("lm_head.weight", head);
    scaleColumns(out, withHead, "model.norm.weight", d, "lm_head.weight");
    return out;
  }

  private static void scaleColumns(
      Map<String, float[]> out, Map<String, float[]> in, String norm, int d, String... weights) {
    float[] w = in.get(norm);
    for (String name : weights) {
      float[] src = in.get(name);
      float[] dst = new float[src.length];
      for (int r = 0; r < src.length / d; r++) {
        for (int m = 0; m < d; m++) {
          dst[r * d + m] = (float) ((double) src[r * d + m] * (1.0 + w[m]));
        }
      }
      out.put(name, dst);
    }
    out.put(norm, new float[d]);
  }

  private static double[] centred(float[] v) {
    double[] x = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      x[i] = v[i];
    }
    return centred(x);
  }

  private static double[] centred(double[] v) {
    double mean = 0;
    for (double x : v) {
      mean += x;
    }
    mean /= v.length;
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] - mean;
    }
    return out;
  }

  private static float[] floats(double[] v) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) v[i];
    }
    return out;
  }

  private static void ones(Map<String, float[]> out, String norm, int d) {
    float[] w = new float[d];
    java.util.Arrays.fill(w, 1f);
    out.put(norm + "weight", w);
    out.put(norm + "bias", new float[d]);
  }
}
