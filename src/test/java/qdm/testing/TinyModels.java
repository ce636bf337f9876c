package qdm.testing;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import qdm.io.HostTensor;
import qdm.io.SafetensorsWriter;

/**
 * Tiny random checkpoints of the architectures that have no Hugging Face reference here
 * (llama-family variants, Gemma 1), written as real model directories: {@code config.json}, {@code
 * model.safetensors} (HF names and layouts) and a word-level {@code tokenizer.json} over the
 * vocabulary. Weights are seeded normals, larger than HF's init so attention depends on position.
 * {@link NaiveDecoder} computes the same models independently.
 */
public final class TinyModels {
  public static final int VOCAB = 512;
  public static final int D = 32;
  public static final int HEADS = 4;
  public static final int HEAD_DIM = 8;
  public static final int FF = 48;

  private TinyModels() {}

  /** The shape of one tiny model. */
  public record Spec(
      String modelType,
      int layers,
      int kvHeads,
      boolean qkvBias,
      boolean outputBias,
      boolean mlpBias,
      int slidingWindow,
      boolean tied,
      long seed) {

    public boolean gemma() {
      return modelType.equals("gemma");
    }
  }

  public static Spec llama(long seed) {
    return new Spec("llama", 2, 2, false, false, false, 0, false, seed);
  }

  public static Spec qwen2(long seed) {
    return new Spec("qwen2", 2, 2, true, false, false, 0, true, seed);
  }

  public static Spec mistral(int window, long seed) {
    return new Spec("mistral", 2, 2, false, false, false, window, false, seed);
  }

  public static Spec gemma(long seed) {
    return new Spec("gemma", 2, 1, false, false, false, 0, true, seed);
  }

  /** Writes the model directory and returns its tensors by HF name. */
  public static Map<String, float[]> write(Path dir, Spec s) {
    Map<String, float[]> t = weights(s);
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("config.json"), config(s).toString());
      Files.writeString(dir.resolve("tokenizer.json"), TinyAudit.wordLevelTokenizer(VOCAB));
      SafetensorsWriter w = new SafetensorsWriter();
      t.forEach((name, v) -> w.add(name, new HostTensor(shapes(s).get(name), v)));
      w.write(dir.resolve("model.safetensors"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return t;
  }

  static JsonObject config(Spec s) {
    JsonObject c = new JsonObject();
    c.addProperty("model_type", s.modelType());
    c.addProperty("vocab_size", VOCAB);
    c.addProperty("hidden_size", D);
    c.addProperty("num_hidden_layers", s.layers());
    c.addProperty("num_attention_heads", HEADS);
    c.addProperty("num_key_value_heads", s.kvHeads());
    c.addProperty("head_dim", HEAD_DIM);
    c.addProperty("intermediate_size", FF);
    c.addProperty("rms_norm_eps", 1e-6);
    c.addProperty("rope_theta", 10000.0);
    c.addProperty("max_position_embeddings", 128);
    c.addProperty("tie_word_embeddings", s.tied());
    c.addProperty("bos_token_id", 1);
    c.addProperty("eos_token_id", 2);
    switch (s.modelType()) {
      case "llama" -> {
        c.addProperty("attention_bias", s.outputBias());
        c.addProperty("mlp_bias", s.mlpBias());
        c.addProperty("hidden_act", "silu");
      }
      case "qwen2" -> {
        c.addProperty("use_sliding_window", false);
        c.addProperty("sliding_window", 4096);
        c.addProperty("hidden_act", "silu");
      }
      case "mistral" -> {
        if (s.slidingWindow() > 0) {
          c.addProperty("sliding_window", s.slidingWindow());
        } else {
          c.add("sliding_window", null);
        }
        c.addProperty("hidden_act", "silu");
      }
      case "gemma" -> {
        c.addProperty("hidden_act", "gelu");
        c.addProperty("hidden_activation", "gelu_pytorch_tanh");
      }
      default -> throw new IllegalArgumentException(s.modelType());
    }
    return c;
  }

  /** Shapes of every tensor the checkpoint holds, by HF name. */
  static Map<String, long[]> shapes(Spec s) {
    Map<String, long[]> m = new LinkedHashMap<>();
    long q = HEADS * HEAD_DIM;
    long kv = (long) s.kvHeads() * HEAD_DIM;
    m.put("model.embed_tokens.weight", new long[] {VOCAB, D});
    for (int i = 0; i < s.layers(); i++) {
      String p = "model.layers." + i + ".";
      m.put(p + "input_layernorm.weight", new long[] {D});
      m.put(p + "self_attn.q_proj.weight", new long[] {q, D});
      m.put(p + "self_attn.k_proj.weight", new long[] {kv, D});
      m.put(p + "self_attn.v_proj.weight", new long[] {kv, D});
      if (s.qkvBias()) {
        m.put(p + "self_attn.q_proj.bias", new long[] {q});
        m.put(p + "self_attn.k_proj.bias", new long[] {kv});
        m.put(p + "self_attn.v_proj.bias", new long[] {kv});
      }
      m.put(p + "self_attn.o_proj.weight", new long[] {D, q});
      if (s.outputBias()) {
        m.put(p + "self_attn.o_proj.bias", new long[] {D});
      }
      m.put(p + "post_attention_layernorm.weight", new long[] {D});
      m.put(p + "mlp.gate_proj.weight", new long[] {FF, D});
      m.put(p + "mlp.up_proj.weight", new long[] {FF, D});
      m.put(p + "mlp.down_proj.weight", new long[] {D, FF});
      if (s.mlpBias()) {
        m.put(p + "mlp.gate_proj.bias", new long[] {FF});
        m.put(p + "mlp.up_proj.bias", new long[] {FF});
        m.put(p + "mlp.down_proj.bias", new long[] {D});
      }
    }
    m.put("model.norm.weight", new long[] {D});
    if (!s.tied()) {
      m.put("lm_head.weight", new long[] {VOCAB, D});
    }
    return m;
  }

  static Map<String, float[]> weights(Spec s) {
    Random r = new Random(s.seed());
    Map<String, float[]> t = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : shapes(s).entrySet()) {
      String name = e.getKey();
      long[] shape = e.getValue();
      int n = 1;
      for (long x : shape) {
        n *= (int) x;
      }
      float[] v = new float[n];
      boolean norm = name.endsWith("layernorm.weight") || name.equals("model.norm.weight");
      double std =
          name.contains("embed_tokens")
              ? (s.gemma() ? 0.2 : 1.0)
              : name.endsWith(".bias")
                  ? 0.1
                  : norm
                      ? 0.1
                      : (name.contains("q_proj") || name.contains("k_proj") ? 2.0 : 1.0)
                          / Math.sqrt(shape[shape.length - 1]);
      for (int i = 0; i < n; i++) {
        double x = r.nextGaussian() * std;
        // Llama norms scale by w (around 1), Gemma's by 1 + w (w around 0)
        v[i] = (float) (norm && !s.gemma() ? 1 + x : x);
      }
      t.put(name, v);
    }
    return t;
  }
}
