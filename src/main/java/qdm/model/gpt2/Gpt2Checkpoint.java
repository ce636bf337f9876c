package qdm.model.gpt2;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import qdm.io.TensorFormatException;
import qdm.io.TensorInfo;
import qdm.io.TensorStore;

/**
 * A GPT-2 checkpoint as QDM reads it: every name with the {@code transformer.} prefix (the original
 * OpenAI-converted checkpoints, {@code gpt2} on the hub, store {@code h.0.attn...}, {@code
 * wte.weight}), and the {@code Conv1D} weights ({@code attn.c_attn}, {@code attn.c_proj}, {@code
 * mlp.c_fc}, {@code mlp.c_proj}), stored [in, out], presented transposed as [out, in]. Everything
 * else passes through.
 */
final class Gpt2Checkpoint implements TensorStore {
  private final TensorStore raw;
  private final Map<String, String> stored = new LinkedHashMap<>(); // canonical -> raw name
  private String cachedName;
  private float[] cached;

  Gpt2Checkpoint(TensorStore raw) {
    this.raw = raw;
    for (String name : raw.names()) {
      String canonical =
          name.startsWith(Gpt2Config.PREFIX) || name.equals(Gpt2Config.LM_HEAD)
              ? name
              : Gpt2Config.PREFIX + name;
      stored.put(canonical, name);
    }
  }

  /** True for the Conv1D weights, which are stored [in, out]. */
  static boolean isConv1d(String name) {
    return name.startsWith(Gpt2Config.PREFIX + "h.")
        && name.endsWith(".weight")
        && (name.contains(".attn.c_attn.")
            || name.contains(".attn.c_proj.")
            || name.contains(".mlp.c_fc.")
            || name.contains(".mlp.c_proj."));
  }

  /** A Conv1D weight the store holds as HF does ([in, out]), so presented transposed. */
  private boolean transposed(String name) {
    return isConv1d(name) && !raw.storedAsLinear(rawName(name));
  }

  @Override
  public TensorStore underlying() {
    return raw.underlying();
  }

  @Override
  public boolean storedAsLinear(String name) {
    return isConv1d(name);
  }

  @Override
  public Path source() {
    return raw.source();
  }

  @Override
  public Path fileOf(String name) {
    return raw.fileOf(rawName(name));
  }

  @Override
  public Set<String> names() {
    return stored.keySet();
  }

  private String rawName(String name) {
    String r = stored.get(name);
    if (r == null) {
      throw new TensorFormatException(raw.source(), name, "is not in this checkpoint");
    }
    return r;
  }

  @Override
  public TensorInfo info(String name) {
    TensorInfo i = raw.info(rawName(name));
    if (!transposed(name) || i.shape().length != 2) {
      return new TensorInfo(name, i.dtype(), i.shape(), i.begin(), i.end());
    }
    long[] s = i.shape();
    return new TensorInfo(name, i.dtype(), new long[] {s[1], s[0]}, i.begin(), i.end());
  }

  @Override
  public synchronized void readFloats(
      String name, long from, float[] dst, int dstOffset, int count) {
    if (!transposed(name) || raw.info(rawName(name)).shape().length != 2) {
      raw.readFloats(rawName(name), from, dst, dstOffset, count);
      return;
    }
    if (!name.equals(cachedName)) {
      long[] s = raw.info(rawName(name)).shape(); // [in, out]
      float[] stored = raw.readFloats(rawName(name));
      int in = (int) s[0];
      int out = (int) s[1];
      float[] t = new float[stored.length];
      for (int i = 0; i < in; i++) {
        for (int o = 0; o < out; o++) {
          t[o * in + i] = stored[i * out + o];
        }
      }
      cached = t;
      cachedName = name;
    }
    System.arraycopy(cached, (int) from, dst, dstOffset, count);
  }

  @Override
  public long[] readLongs(String name) {
    return raw.readLongs(rawName(name));
  }

  @Override
  public void close() {
    raw.close();
  }
}
