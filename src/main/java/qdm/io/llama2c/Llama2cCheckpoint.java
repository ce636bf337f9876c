package qdm.io.llama2c;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import qdm.QdmException;
import qdm.io.HostTensor;

/**
 * A llama2.c checkpoint ({@code export.py}'s version 0 layout, what {@code run.c} reads) as the
 * tensors of a Hugging Face Llama: run.c's matrices are already PyTorch {@code [out, in]}; the
 * query and key rows are permuted from llama2.c's interleaved RoPE pairs (dimensions 2j, 2j+1 of a
 * head rotate together) to Hugging Face's rotate-half layout (j and j + head_size/2), the
 * permutation Hugging Face's own Llama conversion applies; a shared classifier becomes tied
 * embeddings (no {@code lm_head.weight}). The RoPE tables llama2.c stores are skipped: Hugging Face
 * computes them from {@code rope_theta}.
 */
public final class Llama2cCheckpoint {
  private Llama2cCheckpoint() {}

  /** The header and the tensors by Hugging Face name, in checkpoint order, float32 as stored. */
  public record Tensors(Llama2cHeader header, Map<String, HostTensor> byName) {}

  public static Tensors read(Path file) {
    Llama2cHeader h = Llama2cHeader.read(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
      FloatBuffer f =
          map.position(Llama2cHeader.BYTES).slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      return new Tensors(h, tensors(h, f));
    } catch (IOException e) {
      throw new QdmException(file + ": cannot read: " + e.getMessage());
    }
  }

  private static Map<String, HostTensor> tensors(Llama2cHeader h, FloatBuffer f) {
    int d = h.dim();
    int kv = h.kvDim();
    int ff = h.hiddenDim();
    int layers = h.layers();
    float[] embed = take(f, (long) h.vocab() * d);
    float[][] attnNorm = perLayer(f, layers, d);
    float[][] wq = perLayer(f, layers, d * d);
    float[][] wk = perLayer(f, layers, kv * d);
    float[][] wv = perLayer(f, layers, kv * d);
    float[][] wo = perLayer(f, layers, d * d);
    float[][] ffnNorm = perLayer(f, layers, d);
    float[][] w1 = perLayer(f, layers, ff * d);
    float[][] w2 = perLayer(f, layers, d * ff);
    float[][] w3 = perLayer(f, layers, ff * d);
    float[] finalNorm = take(f, d);
    f.position(f.position() + h.seqLen() * h.headSize()); // freq_cis_real, freq_cis_imag
    float[] classifier = h.sharedClassifier() ? null : take(f, (long) h.vocab() * d);

    Map<String, HostTensor> t = new LinkedHashMap<>();
    t.put("model.embed_tokens.weight", new HostTensor(new long[] {h.vocab(), d}, embed));
    for (int i = 0; i < layers; i++) {
      String p = "model.layers." + i + ".";
      t.put(p + "input_layernorm.weight", new HostTensor(new long[] {d}, attnNorm[i]));
      t.put(
          p + "self_attn.q_proj.weight",
          new HostTensor(new long[] {d, d}, rotateHalf(wq[i], h.heads(), h.headSize(), d)));
      t.put(
          p + "self_attn.k_proj.weight",
          new HostTensor(new long[] {kv, d}, rotateHalf(wk[i], h.kvHeads(), h.headSize(), d)));
      t.put(p + "self_attn.v_proj.weight", new HostTensor(new long[] {kv, d}, wv[i]));
      t.put(p + "self_attn.o_proj.weight", new HostTensor(new long[] {d, d}, wo[i]));
      t.put(p + "post_attention_layernorm.weight", new HostTensor(new long[] {d}, ffnNorm[i]));
      t.put(p + "mlp.gate_proj.weight", new HostTensor(new long[] {ff, d}, w1[i]));
      t.put(p + "mlp.up_proj.weight", new HostTensor(new long[] {ff, d}, w3[i]));
      t.put(p + "mlp.down_proj.weight", new HostTensor(new long[] {d, ff}, w2[i]));
    }
    t.put("model.norm.weight", new HostTensor(new long[] {d}, finalNorm));
    if (classifier != null) {
      t.put("lm_head.weight", new HostTensor(new long[] {h.vocab(), d}, classifier));
    }
    return t;
  }

  /**
   * Rows [heads * headSize, in] from interleaved pairs to rotate-half: row {@code 2j + t} of a head
   * becomes row {@code t * headSize/2 + j}.
   */
  static float[] rotateHalf(float[] w, int heads, int headSize, int in) {
    float[] out = new float[w.length];
    int half = headSize / 2;
    for (int h = 0; h < heads; h++) {
      for (int j = 0; j < half; j++) {
        for (int t = 0; t < 2; t++) {
          int from = h * headSize + 2 * j + t;
          int to = h * headSize + t * half + j;
          System.arraycopy(w, from * in, out, to * in, in);
        }
      }
    }
    return out;
  }

  private static float[][] perLayer(FloatBuffer f, int layers, int n) {
    float[][] out = new float[layers][];
    for (int i = 0; i < layers; i++) {
      out[i] = take(f, n);
    }
    return out;
  }

  private static float[] take(FloatBuffer f, long n) {
    if (n > Integer.MAX_VALUE) {
      throw new QdmException("a llama2.c tensor of " + n + " values is larger than QDM converts");
    }
    float[] a = new float[(int) n];
    f.get(a);
    return a;
  }
}
