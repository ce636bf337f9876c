package qdm.io.quant;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import qdm.io.DType;
import qdm.io.TensorFormatException;
import qdm.io.TensorInfo;
import qdm.io.TensorStore;

/**
 * A quantized checkpoint seen as float tensors under their Hugging Face names: the interface every
 * weight source implements. Each quantized linear layer (its packed integers, scales and zero
 * points) appears as one float32 {@code <module>.weight} [out, in], dequantized on first read, one
 * tensor at a time (the most recent stays cached: the loader reads a tensor in consecutive pieces);
 * every other tensor of the file (embeddings, norms, biases, an unquantized head) passes through as
 * stored.
 */
public abstract class DequantizedStore implements TensorStore {
  protected final TensorStore raw;
  private final Map<String, TensorInfo> synthesized = new LinkedHashMap<>();
  private final Map<String, String> passThrough = new LinkedHashMap<>();
  private String cachedName;
  private float[] cached;

  protected DequantizedStore(TensorStore raw) {
    this.raw = raw;
  }

  /**
   * Declares the quantized module {@code module} with dense shape [out, in]; its auxiliary tensors
   * ({@code auxiliaries}) are hidden. Called by subclasses while indexing.
   */
  protected void quantized(String module, long out, long in, Set<String> auxiliaries) {
    String name = module + ".weight";
    synthesized.put(name, new TensorInfo(name, DType.F32, new long[] {out, in}, 0, 0));
    auxiliaries.forEach(passThrough::remove);
    passThrough.remove(name);
  }

  /** Fails naming the module and the first of {@code parts} it lacks. */
  protected void requireParts(String format, String module, String... parts) {
    for (String part : parts) {
      if (!raw.contains(module + part)) {
        throw new qdm.QdmException(
            raw.source() + ": " + format + " module '" + module + "' has no " + module + part);
      }
    }
  }

  /**
   * The stored group of each of the {@code in} input columns ({@code g_idx}), each checked to be
   * one of {@code groups}.
   */
  protected int[] groupIndex(String name, int in, int groups) {
    long[] stored = raw.readLongs(name);
    if (stored.length != in) {
      throw new qdm.QdmException(
          raw.source() + ": " + name + " has " + stored.length + " entries, expected " + in);
    }
    int[] g = new int[in];
    for (int i = 0; i < in; i++) {
      if (stored[i] < 0 || stored[i] >= groups) {
        throw new qdm.QdmException(
            raw.source()
                + ": "
                + name
                + "["
                + i
                + "] = "
                + stored[i]
                + " is not one of the "
                + groups
                + " groups");
      }
      g[i] = (int) stored[i];
    }
    return g;
  }

  /** Hides a raw tensor that is a parameter of the format, not of the model. */
  protected void hide(String name) {
    passThrough.remove(name);
  }

  /** Passes every raw tensor through unless a quantized module claims it. */
  protected void passAll() {
    for (String n : raw.names()) {
      passThrough.put(n, n);
    }
  }

  /** The dense float32 weight [out, in] of {@code module}, row-major. */
  protected abstract float[] dequantize(String module);

  /**
   * Rounds {@code w} in place to {@code dtype} when it is a half type: each format's own
   * dequantization multiplies codes by scales in the scales' dtype (GPTQModel's {@code
   * dequantize_weight}, AutoAWQ's {@code dequantize_gemm}, compressed-tensors' {@code dequantize})
   * or writes the weight's dtype (bitsandbytes), so one correctly rounded product in float32
   * followed by this rounding gives their values bit for bit.
   */
  protected static void roundTo(qdm.io.DType dtype, float[] w) {
    if (dtype == qdm.io.DType.F16) {
      for (int i = 0; i < w.length; i++) {
        w[i] = qdm.io.Floats.f16ToFloat(qdm.io.Floats.floatToF16(w[i]));
      }
    } else if (dtype == qdm.io.DType.BF16) {
      for (int i = 0; i < w.length; i++) {
        w[i] = qdm.io.Floats.bf16ToFloat(qdm.io.Floats.floatToBf16(w[i]));
      }
    }
  }

  /** A short name of the format, for messages ("GPTQ 4-bit"). */
  public abstract String describe();

  @Override
  public Path source() {
    return raw.source();
  }

  @Override
  public Path fileOf(String name) {
    if (synthesized.containsKey(name)) {
      return raw.source();
    }
    return raw.fileOf(name);
  }

  @Override
  public Set<String> names() {
    java.util.LinkedHashSet<String> all = new java.util.LinkedHashSet<>(passThrough.keySet());
    all.addAll(synthesized.keySet());
    return all;
  }

  /** True if {@code name} is a dequantized weight (not stored as floats in the file). */
  public boolean isDequantized(String name) {
    return synthesized.containsKey(name);
  }

  /** Dequantized weights are linear layers' [out, in]. */
  @Override
  public boolean storedAsLinear(String name) {
    return isDequantized(name);
  }

  @Override
  public TensorInfo info(String name) {
    TensorInfo s = synthesized.get(name);
    if (s != null) {
      return s;
    }
    if (!passThrough.containsKey(name)) {
      throw new TensorFormatException(raw.source(), name, "is not in this checkpoint");
    }
    return raw.info(name);
  }

  @Override
  public synchronized void readFloats(
      String name, long from, float[] dst, int dstOffset, int count) {
    if (!synthesized.containsKey(name)) {
      info(name);
      raw.readFloats(name, from, dst, dstOffset, count);
      return;
    }
    if (!name.equals(cachedName)) {
      String module = name.substring(0, name.length() - ".weight".length());
      cached = dequantize(module);
      cachedName = name;
    }
    System.arraycopy(cached, Math.toIntExact(from), dst, dstOffset, count);
  }

  @Override
  public long[] readLongs(String name) {
    return raw.readLongs(name);
  }

  @Override
  public void close() {
    raw.close();
  }
}
