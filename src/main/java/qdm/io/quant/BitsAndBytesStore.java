package qdm.io.quant;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import qdm.QdmException;
import qdm.io.DType;
import qdm.io.TensorStore;

/**
 * A bitsandbytes checkpoint as Hugging Face transformers serializes it, dequantized as {@code
 * bitsandbytes.functional} does.
 *
 * <p><b>4-bit</b> (NF4 / FP4): {@code <m>.weight} is uint8, two codes per byte (the first in the
 * high nibble), over the flattened weight; {@code <m>.weight.absmax} one scale per block of {@code
 * blocksize} elements; {@code <m>.weight.quant_map} the 16 code values; and {@code
 * <m>.weight.quant_state.bitsandbytes__nf4} (or {@code __fp4}) a JSON document as uint8 bytes:
 * quant type, blocksize, dtype, shape and, with double quantization, the nested blocksize and
 * offset. Double quantization stores the absmax as uint8 codes into {@code nested_quant_map} with
 * {@code nested_absmax} per {@code nested_blocksize} block, plus the offset. {@code W[k] =
 * quant_map[code_k] * absmax[k / blocksize]}, in the weight dtype.
 *
 * <p><b>8-bit</b> (LLM.int8): {@code <m>.weight} int8 [out, in] and {@code <m>.SCB} the absmax of
 * each row; {@code W[o][i] = q[o][i] * SCB[o] / 127} (bitsandbytes multiplies by the float
 * reciprocal).
 */
public final class BitsAndBytesStore extends DequantizedStore {
  private static final String STATE = ".quant_state.bitsandbytes__";
  private final Set<String> kinds = new TreeSet<>();

  /** True if the tensors carry bitsandbytes quantization states. */
  public static boolean describesItself(TensorStore store) {
    for (String n : store.names()) {
      if (n.contains(STATE) || n.endsWith(".SCB")) {
        return true;
      }
    }
    return false;
  }

  public BitsAndBytesStore(TensorStore raw, Optional<QuantConfig> config) {
    super(raw);
    passAll();
    for (String name : raw.names()) {
      int at = name.indexOf(STATE);
      if (at >= 0) {
        String weight = name.substring(0, at);
        String module = weight.substring(0, weight.length() - ".weight".length());
        State s = state(weight);
        kinds.add(s.type + (s.nested ? "+dq" : ""));
        quantized(
            module,
            s.shape[0],
            s.shape[1],
            Set.of(
                weight,
                name,
                weight + ".absmax",
                weight + ".quant_map",
                weight + ".nested_absmax",
                weight + ".nested_quant_map"));
      } else if (name.endsWith(".SCB")) {
        String module = name.substring(0, name.length() - ".SCB".length());
        if (!raw.contains(module + ".weight")) {
          throw new QdmException(raw.source() + ": " + name + " has no " + module + ".weight");
        }
        long[] shape = raw.info(module + ".weight").shape();
        if (shape.length != 2 || raw.info(module + ".weight").dtype() != DType.I8) {
          throw new QdmException(
              raw.source()
                  + ": "
                  + module
                  + ".weight is "
                  + raw.info(module + ".weight").dtype()
                  + " "
                  + raw.info(module + ".weight").shapeString()
                  + "; an 8-bit bitsandbytes weight is int8 [out, in]");
        }
        kinds.add("int8");
        quantized(
            module,
            shape[0],
            shape[1],
            Set.of(name, module + ".weight", module + ".weight_format"));
      }
    }
    if (kinds.isEmpty()) {
      throw new QdmException(
          raw.source()
              + ": no bitsandbytes quantized weights (no "
              + "*.quant_state.bitsandbytes__nf4/fp4 and no *.SCB tensors)"
              + config
                  .map(c -> " although " + c.file() + " says quant_method bitsandbytes")
                  .orElse(""));
    }
  }

  @Override
  public String describe() {
    return "bitsandbytes " + String.join("/", kinds);
  }

  /** 4, 8, or 0 when the checkpoint mixes them. */
  public int bits() {
    boolean eight = kinds.contains("int8");
    boolean four = kinds.size() > (eight ? 1 : 0);
    return eight && four ? 0 : eight ? 8 : 4;
  }

  /** What a 4-bit weight's quant_state JSON says. */
  private record State(
      String type,
      int blocksize,
      DType dtype,
      long[] shape,
      boolean nested,
      int nestedBlocksize,
      float nestedOffset) {}

  private State state(String weight) {
    String name = null;
    for (String n : raw.names()) {
      if (n.startsWith(weight + STATE)) {
        name = n;
      }
    }
    long[] bytes = raw.readLongs(name);
    byte[] b = new byte[bytes.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) bytes[i];
    }
    JsonObject j;
    try {
      j = JsonParser.parseString(new String(b, StandardCharsets.UTF_8)).getAsJsonObject();
    } catch (RuntimeException e) {
      throw new QdmException(raw.source() + ": " + name + " is not a JSON quantization state");
    }
    String type = name.substring(name.indexOf(STATE) + STATE.length());
    if (!type.equals("nf4") && !type.equals("fp4")) {
      throw new QdmException(
          raw.source() + ": " + name + ": quant type '" + type + "' is not nf4 or fp4");
    }
    try {
      int blocksize = j.get("blocksize").getAsInt();
      String dt = j.has("dtype") ? j.get("dtype").getAsString() : "float32";
      DType dtype =
          switch (dt.replace("torch.", "").toLowerCase(Locale.ROOT)) {
            case "float16" -> DType.F16;
            case "bfloat16" -> DType.BF16;
            case "float32" -> DType.F32;
            default ->
                throw new QdmException(
                    raw.source()
                        + ": "
                        + name
                        + ": dtype '"
                        + dt
                        + "' is not float16, bfloat16 or float32");
          };
      var sh = j.getAsJsonArray("shape");
      if (sh == null || sh.size() != 2) {
        throw new QdmException(raw.source() + ": " + name + ": shape " + sh + " is not [out, in]");
      }
      long[] shape = {sh.get(0).getAsLong(), sh.get(1).getAsLong()};
      boolean nested = raw.contains(weight + ".nested_absmax");
      int nb = nested ? j.get("nested_blocksize").getAsInt() : 0;
      float off = nested ? j.get("nested_offset").getAsFloat() : 0f;
      if (blocksize <= 0 || nested && nb <= 0) {
        throw new QdmException(raw.source() + ": " + name + ": block sizes must be positive");
      }
      return new State(type, blocksize, dtype, shape, nested, nb, off);
    } catch (QdmException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new QdmException(
          raw.source()
              + ": "
              + name
              + " lacks blocksize, shape or the "
              + "nested_blocksize / nested_offset of double quantization");
    }
  }

  @Override
  protected float[] dequantize(String module) {
    String weight = module + ".weight";
    if (raw.contains(module + ".SCB")) {
      long[] q = raw.readLongs(weight);
      float[] scb = raw.readFloats(module + ".SCB");
      int in = (int) raw.info(weight).shape()[1];
      if (scb.length * (long) in != q.length) {
        throw new QdmException(
            raw.source()
                + ": "
                + module
                + ".SCB has "
                + scb.length
                + " entries for "
                + q.length / in
                + " rows");
      }
      float[] w = new float[q.length];
      for (int k = 0; k < q.length; k++) {
        w[k] = q[k] * scb[k / in] * 7.874015718698502e-3f;
      }
      return w;
    }
    State s = state(weight);
    long n = s.shape[0] * s.shape[1];
    long[] packed = raw.readLongs(weight);
    if (packed.length * 2L < n) {
      throw new QdmException(
          raw.source()
              + ": "
              + weight
              + " holds "
              + packed.length * 2L
              + " codes for a "
              + s.shape[0]
              + " x "
              + s.shape[1]
              + " weight");
    }
    float[] map = raw.readFloats(weight + ".quant_map");
    if (map.length != 16) {
      throw new QdmException(
          raw.source() + ": " + weight + ".quant_map has " + map.length + " values, expected 16");
    }
    float[] absmax = absmax(weight, s, (n + s.blocksize - 1) / s.blocksize);
    float[] w = new float[Math.toIntExact(n)];
    for (int k = 0; k < n; k++) {
      int b = (int) packed[k >> 1];
      int code = (k & 1) == 0 ? (b >> 4) & 15 : b & 15;
      w[k] = map[code] * absmax[k / s.blocksize];
    }
    roundTo(s.dtype, w);
    return w;
  }

  private float[] absmax(String weight, State s, long blocks) {
    String name = weight + ".absmax";
    if (!s.nested) {
      float[] a = raw.readFloats(name);
      if (a.length < blocks) {
        throw new QdmException(
            raw.source()
                + ": "
                + name
                + " has "
                + a.length
                + " scales for "
                + blocks
                + " blocks of "
                + s.blocksize);
      }
      return a;
    }
    long[] codes = raw.readLongs(name);
    float[] code = raw.readFloats(weight + ".nested_quant_map");
    float[] nested = raw.readFloats(weight + ".nested_absmax");
    if (codes.length < blocks
        || code.length != 256
        || (long) nested.length * s.nestedBlocksize < codes.length) {
      throw new QdmException(
          raw.source()
              + ": "
              + weight
              + ": the double-quantized absmax ("
              + codes.length
              + " codes, "
              + code.length
              + "-entry map, "
              + nested.length
              + " nested scales of "
              + s.nestedBlocksize
              + ") does not cover "
              + blocks
              + " blocks");
    }
    float[] a = new float[codes.length];
    for (int i = 0; i < a.length; i++) {
      a[i] = code[(int) codes[i] & 255] * nested[i / s.nestedBlocksize] + s.nestedOffset;
    }
    return a;
  }
}
