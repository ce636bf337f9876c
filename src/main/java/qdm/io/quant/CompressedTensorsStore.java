package qdm.io.quant;

import com.google.gson.JsonElement;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.apache.logging.log4j.LogManager;
import qdm.QdmException;
import qdm.io.DType;
import qdm.io.TensorInfo;
import qdm.io.TensorStore;

/**
 * A compressed-tensors checkpoint ({@code quant_method = compressed-tensors}, as llm-compressor
 * exports it and vLLM serves it), dequantized as the compressed-tensors library does.
 *
 * <ul>
 *   <li>{@code pack-quantized}: {@code weight_packed} [out, ceil(in * bits / 32)] int32 holds the
 *       signed codes plus 2^(bits-1), packed along the input dimension, low bits first; {@code
 *       weight_shape} gives [out, in];
 *   <li>{@code int-quantized} / {@code naive-quantized}: {@code weight} is the int8 codes;
 * </ul>
 *
 * <p>with {@code weight_scale} [out, groups] ([out, 1] per channel, one element per tensor), an
 * optional {@code weight_zero_point} (asymmetric; [out, groups], or packed along the output
 * dimension as newer versions write it) and an optional {@code weight_g_idx} (group act-order).
 * {@code W[o][i] = (q[o][i] - z[o][g]) * s[o][g]}, {@code g = g_idx[i]} or {@code i / group_size},
 * computed in the scale's dtype. The bit width and grouping of each module are read from its
 * tensors' shapes, so mixed-precision exports need no target matching. Activation quantization
 * ({@code input_activations}) is not simulated: the audit sees the weights only, and says so.
 */
public final class CompressedTensorsStore extends DequantizedStore {
  private final String format;
  private final Set<Integer> groupSizes = new TreeSet<>();
  private final Set<Integer> bitWidths = new TreeSet<>();

  public CompressedTensorsStore(TensorStore raw, QuantConfig config) {
    super(raw);
    this.format = config.string("format", "dense").toLowerCase(Locale.ROOT);
    if (!Set.of("dense", "pack-quantized", "int-quantized", "naive-quantized", "mixed-precision")
        .contains(format)) {
      throw new QdmException(
          config.file()
              + ": "
              + config.prefix()
              + ".format '"
              + format
              + "' is not read by QDM (it reads pack-quantized, int-quantized, naive-quantized and "
              + "dense compressed-tensors checkpoints)");
    }
    readGroups(config);
    passAll();
    for (String name : raw.names()) {
      String m;
      if (name.endsWith(".weight_packed")) {
        m = name.substring(0, name.length() - ".weight_packed".length());
        requireParts("compressed-tensors", m, ".weight_scale", ".weight_shape");
        long[] shape = raw.readLongs(m + ".weight_shape");
        if (shape.length != 2) {
          throw new QdmException(
              raw.source()
                  + ": "
                  + m
                  + ".weight_shape has "
                  + shape.length
                  + " entries, expected [out, in]");
        }
        quantized(m, shape[0], shape[1], aux(m, name));
      } else if (name.endsWith(".weight_scale")
          && raw.contains(stem(name) + ".weight")
          && !raw.info(stem(name) + ".weight").dtype().isFloat()) {
        m = stem(name);
        long[] s = raw.info(m + ".weight").shape();
        quantized(m, s[0], s[1], aux(m, m + ".weight"));
      } else if (name.endsWith(".weight_scale")
          || name.endsWith(".weight_zero_point")
          || name.endsWith(".input_scale")
          || name.endsWith(".input_zero_point")
          || name.endsWith(".output_scale")
          || name.endsWith(".weight_g_idx")) {
        hide(name); // parameters of float weights (fake-quantized) or of activations
      }
    }
  }

  private static String stem(String name) {
    return name.substring(0, name.lastIndexOf('.'));
  }

  private Set<String> aux(String m, String weights) {
    Set<String> a = new LinkedHashSet<>();
    a.add(weights);
    for (String part :
        new String[] {
          ".weight_scale",
          ".weight_zero_point",
          ".weight_shape",
          ".weight_g_idx",
          ".input_scale",
          ".input_zero_point",
          ".output_scale"
        }) {
      a.add(m + part);
    }
    return a;
  }

  private void readGroups(QuantConfig config) {
    if (!config.has("config_groups")) {
      return;
    }
    QuantConfig groups = config.object("config_groups");
    boolean activations = false;
    for (String g : groups.json().keySet()) {
      QuantConfig group = groups.object(g);
      if (group.has("weights")) {
        QuantConfig w = group.object("weights");
        String type = w.string("type", "int");
        if (!type.equals("int")) {
          throw new QdmException(
              config.file()
                  + ": "
                  + w.prefix()
                  + ".type is '"
                  + type
                  + "'; QDM reads integer weight quantization (float8 / fp4 weights are not read)");
        }
        if (w.has("group_size")) {
          groupSizes.add(w.integer("group_size", 0));
        }
        bitWidths.add(w.integer("num_bits", 8));
      }
      JsonElement in = group.json().get("input_activations");
      activations |= in != null && !in.isJsonNull();
    }
    if (activations) {
      LogManager.getLogger(CompressedTensorsStore.class)
          .warn(
              config.file()
                  + ": the "
                  + "checkpoint also quantizes activations (input_activations); QDM dequantizes the "
                  + "weights only, so the audit measures the weight quantization");
    }
  }

  @Override
  public String describe() {
    return "compressed-tensors "
        + format
        + (bitWidths.isEmpty() ? "" : ", " + join(bitWidths) + "-bit")
        + (groupSizes.isEmpty() ? "" : ", group " + join(groupSizes));
  }

  /** Bits of the first module's codes, for the conditions table (0 if unknown). */
  public int bits() {
    return bitWidths.size() == 1 ? bitWidths.iterator().next() : 0;
  }

  private static String join(Set<Integer> s) {
    return String.join("/", s.stream().map(String::valueOf).toList());
  }

  @Override
  protected float[] dequantize(String m) {
    boolean packed = raw.contains(m + ".weight_packed");
    int out;
    int in;
    int[] q;
    if (packed) {
      long[] shape = raw.readLongs(m + ".weight_shape");
      out = Math.toIntExact(shape[0]);
      in = Math.toIntExact(shape[1]);
      TensorInfo pi = raw.info(m + ".weight_packed");
      int cols = (int) pi.shape()[1];
      int bits = bitsOf(m, in, cols);
      int[] u = Packed.unpackCols(raw.readLongs(m + ".weight_packed"), out, cols, bits);
      int perRow = cols * (32 / bits);
      int offset = 1 << (bits - 1);
      q = new int[out * in];
      for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) {
          q[o * in + i] = u[o * perRow + i] - offset;
        }
      }
    } else {
      long[] s = raw.info(m + ".weight").shape();
      out = (int) s[0];
      in = (int) s[1];
      long[] codes = raw.readLongs(m + ".weight");
      q = new int[codes.length];
      for (int i = 0; i < codes.length; i++) {
        q[i] = (int) codes[i];
      }
    }
    TensorInfo si = raw.info(m + ".weight_scale");
    float[] scale = raw.readFloats(m + ".weight_scale");
    int groups = scale.length == 1 ? 1 : (int) (scale.length / out);
    if (scale.length != 1 && (long) groups * out != scale.length) {
      throw new QdmException(
          raw.source()
              + ": "
              + m
              + ".weight_scale "
              + si.shapeString()
              + " is not ["
              + out
              + ", groups]");
    }
    boolean perTensor = scale.length == 1;
    int[] z = zeros(m, out, groups);
    int[] g = groupOf(m, in, groups);
    float[] w = new float[out * in];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        int k = perTensor ? 0 : o * groups + g[i];
        int zero = z == null ? 0 : z[perTensor ? 0 : k];
        w[o * in + i] = (q[o * in + i] - zero) * scale[k];
      }
    }
    roundTo(si.dtype(), w);
    return w;
  }

  private int bitsOf(String m, int in, int cols) {
    for (int bits : new int[] {4, 8, 2}) {
      if ((in * bits + 31) / 32 == cols) {
        return bits;
      }
    }
    throw new QdmException(
        raw.source()
            + ": "
            + m
            + ".weight_packed has "
            + cols
            + " words per row, which no bit width (2, 4, 8) gives for "
            + in
            + " columns");
  }

  /** The zero points per [out][group], null when symmetric (absent). */
  private int[] zeros(String m, int out, int groups) {
    String name = m + ".weight_zero_point";
    if (!raw.contains(name)) {
      return null;
    }
    TensorInfo zi = raw.info(name);
    long[] stored = raw.readLongs(name);
    if (stored.length == (long) out * groups || stored.length == 1) {
      int[] z = new int[stored.length];
      for (int i = 0; i < z.length; i++) {
        z[i] = (int) stored[i];
      }
      return z;
    }
    // packed along the output dimension: [ceil(out * bits / 32), groups] int32
    long rows = zi.shape()[0];
    int bits = (int) (32 * rows / out);
    if (bits != 2 && bits != 4 && bits != 8 || zi.dtype() != DType.I32) {
      throw new QdmException(
          raw.source()
              + ": "
              + name
              + " "
              + zi.shapeString()
              + " is "
              + "neither ["
              + out
              + ", "
              + groups
              + "] nor packed int32 zero points");
    }
    int[] byCol =
        Packed.unpackCols(transpose(stored, (int) rows, groups), groups, (int) rows, bits);
    int per = 32 / bits;
    int offset = 1 << (bits - 1);
    int[] z = new int[out * groups];
    for (int o = 0; o < out; o++) {
      for (int gi = 0; gi < groups; gi++) {
        z[o * groups + gi] = byCol[gi * (int) rows * per + o] - offset;
      }
    }
    return z;
  }

  private static long[] transpose(long[] a, int rows, int cols) {
    long[] t = new long[a.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = a[r * cols + c];
      }
    }
    return t;
  }

  private int[] groupOf(String m, int in, int groups) {
    if (raw.contains(m + ".weight_g_idx")) {
      return groupIndex(m + ".weight_g_idx", in, groups);
    }
    int[] g = new int[in];
    int size = (in + groups - 1) / groups;
    if (groupSizes.size() == 1) {
      int configured = groupSizes.iterator().next();
      if (configured > 0 && (in + configured - 1) / configured == groups) {
        size = configured;
      }
    }
    for (int i = 0; i < in; i++) {
      g[i] = Math.min(groups - 1, i / size);
    }
    return g;
  }
}
