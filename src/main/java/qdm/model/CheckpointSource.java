package qdm.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import qdm.io.TensorStore;
import qdm.io.gguf.GgmlType;
import qdm.io.gguf.GgufStore;
import qdm.io.quant.AwqStore;
import qdm.io.quant.BitsAndBytesStore;
import qdm.io.quant.CompressedTensorsStore;
import qdm.io.quant.DequantizedStore;
import qdm.io.quant.GptqStore;

/**
 * What a checkpoint is, for the run banner and the conditions table's {@code source} column: its
 * format with what the format says about itself ("GPTQ 4-bit, group 128", "GGUF Q4_K x 7, Q6_K x 2,
 * F32 x 9", "safetensors BF16") and, where one width describes its linear weights, the bits.
 */
public final class CheckpointSource {
  private CheckpointSource() {}

  private static TensorStore unwrap(TensorStore s) {
    return s.underlying();
  }

  /** The format and its parameters. */
  public static String describe(TensorStore store) {
    TensorStore s = unwrap(store);
    if (s instanceof DequantizedStore d) {
      return d.describe();
    }
    if (s instanceof GgufStore g) {
      Map<String, Integer> t = new LinkedHashMap<>(g.types());
      StringBuilder b = new StringBuilder("GGUF");
      String sep = " ";
      for (var e : t.entrySet()) {
        b.append(sep).append(e.getKey()).append(" x ").append(e.getValue());
        sep = ", ";
      }
      return b.toString();
    }
    Map<String, Integer> dtypes = new TreeMap<>();
    for (String n : s.names()) {
      dtypes.merge(s.info(n).dtype().name(), 1, Integer::sum);
    }
    return "safetensors " + String.join("/", dtypes.keySet());
  }

  /** The bits of the linear weights' codes, when one width describes them. */
  public static OptionalInt bits(TensorStore store, ModelConfig config) {
    TensorStore s = unwrap(store);
    int bits = 0;
    if (s instanceof GptqStore q) {
      bits = q.bits();
    } else if (s instanceof AwqStore) {
      bits = 4;
    } else if (s instanceof CompressedTensorsStore c) {
      bits = c.bits();
    } else if (s instanceof BitsAndBytesStore b) {
      bits = b.bits();
    } else if (s instanceof GgufStore g) {
      for (TensorSpec spec : config.tensors()) {
        if (spec.role() == TensorRole.DECODER_LINEAR && g.contains(spec.name())) {
          int w = nominalBits(g.typeOf(spec.name()));
          if (bits != 0 && w != bits) {
            return OptionalInt.empty();
          }
          bits = w;
        }
      }
    }
    return bits > 0 ? OptionalInt.of(bits) : OptionalInt.empty();
  }

  private static int nominalBits(GgmlType t) {
    return switch (t) {
      case Q2_K -> 2;
      case Q3_K -> 3;
      case Q4_0, Q4_1, Q4_K -> 4;
      case Q5_0, Q5_1, Q5_K -> 5;
      case Q6_K -> 6;
      case Q8_0 -> 8;
      case F16, BF16 -> 16;
      case F32 -> 32;
    };
  }
}
