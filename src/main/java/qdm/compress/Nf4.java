package qdm.compress;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Set;
import qdm.QdmException;
import qdm.model.TensorRole;
import qdm.model.Weights;

/**
 * bitsandbytes' 4-bit NormalFloat quantization, simulated (the weights stay floats): the tensor is
 * cut into blocks of {@code blocksize} consecutive elements (row-major, as bitsandbytes flattens a
 * weight), each scaled by its absolute maximum, and every element replaced by the nearest of the 16
 * NF4 values times that maximum (ties go up, as bitsandbytes' decision tree compares {@code x >
 * midpoint}). With {@code doubleQuant} the block maxima are themselves quantized as bitsandbytes'
 * double quantization does: their mean subtracted, then blocks of 256 scaled by their absolute
 * maximum onto bitsandbytes' signed dynamic 8-bit map. The simulation of a checkpoint written by
 * {@code load_in_4bit} (compare both in one audit).
 *
 * @param blocksize elements per scale (bitsandbytes' default 64)
 * @param doubleQuant quantize the scales too ({@code bnb_4bit_use_double_quant})
 */
public record Nf4(int blocksize, boolean doubleQuant, Set<TensorRole> targets)
    implements Compression {
  private static final long serialVersionUID = 1L;

  /** {@code nf4[:bBLOCK][:dq][:targets=...]}. */
  public static final Method METHOD =
      new Method(
          "nf4",
          "bitsandbytes NF4, blocksize 64 by default, :dq double quantization of the scales",
          List.of(
              Param.prefixed(
                  "blocksize",
                  "blocksize",
                  "b",
                  "BLOCK",
                  64,
                  v ->
                      (int) v >= 2 && Integer.bitCount((int) v) == 1
                          ? null
                          : "must be a power of two (bitsandbytes uses 64 to 4096), got " + v),
              Param.flag("double-quant", "dq"),
              Param.targets()),
          s -> new Nf4(s.integer("blocksize"), s.flag("double-quant"), s.roles("targets")));

  /** bitsandbytes' NF4 code values. */
  static final float[] CODE = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f
  };

  public Nf4 {
    if (blocksize < 2 || Integer.bitCount(blocksize) != 1) {
      throw new QdmException(
          "nf4 blocksize must be a power of two (bitsandbytes uses 64 to "
              + "4096), got "
              + blocksize);
    }
    targets = Targets.check(targets);
  }

  @Override
  public Method method() {
    return METHOD;
  }

  @Override
  public Settings settings() {
    return Settings.of("blocksize", blocksize, "double-quant", doubleQuant, "targets", targets);
  }

  @Override
  public Compressed apply(Weights base) {
    return WeightRewrite.apply(
        base,
        targets,
        METHOD.id(),
        (name, src) -> {
          long rowLength = RowBlocks.rowLength(src);
          WeightRewrite.Rows rows = this::quantize;
          // double quantization groups 256 block maxima: it needs the whole tensor, as does a
          // block that spans rows
          return doubleQuant || rowLength % blocksize != 0 ? WeightRewrite.whole(rows) : rows;
        },
        RowBlocks.DEFAULT);
  }

  /** Quantizes a float32 block (whole blocks of the flattened tensor) and returns w_hat. */
  NDArray quantize(NDArray w32) {
    float[] w = w32.toFloatArray();
    float[] out = quantize(w, blocksize, doubleQuant);
    return w32.getManager().create(out, w32.getShape());
  }

  /** NF4 fake quantization of a flattened tensor. */
  static float[] quantize(float[] w, int blocksize, boolean doubleQuant) {
    int blocks = (w.length + blocksize - 1) / blocksize;
    float[] absmax = new float[blocks];
    for (int k = 0; k < w.length; k++) {
      absmax[k / blocksize] = Math.max(absmax[k / blocksize], Math.abs(w[k]));
    }
    float[] scale = doubleQuant ? DynamicMap.roundTrip(absmax) : absmax;
    float[] out = new float[w.length];
    for (int k = 0; k < w.length; k++) {
      float a = absmax[k / blocksize];
      float x = a == 0 ? 0 : w[k] / a;
      out[k] = CODE[nearest(x)] * scale[k / blocksize];
    }
    return out;
  }

  /** The NF4 code nearest {@code x} in [-1, 1]; at a midpoint the upper one. */
  static int nearest(float x) {
    int c = 0;
    while (c < 15 && x > (CODE[c] + CODE[c + 1]) / 2) {
      c++;
    }
    return c;
  }

  /**
   * bitsandbytes' double quantization of block maxima: the mean subtracted, blocks of 256 onto the
   * signed dynamic 8-bit map ({@code create_dynamic_map}: 7 exponent bits, sign, linear fractions
   * between 0.1 and 1 at each power of ten), mean added back.
   */
  static final class DynamicMap {
    static final float[] VALUES = build();

    private DynamicMap() {}

    private static float[] build() {
      java.util.List<Double> data = new java.util.ArrayList<>();
      int exponentBits = 7;
      int nonSign = 7;
      for (int i = 0; i < exponentBits; i++) {
        int items = (1 << (i + nonSign - exponentBits)) + 1;
        double[] bounds = linspace(0.1, 1, items);
        double p = Math.pow(10, -(exponentBits - 1) + i);
        for (int j = 0; j + 1 < bounds.length; j++) {
          double mean = (bounds[j] + bounds[j + 1]) / 2;
          data.add(p * mean);
          data.add(-p * mean);
        }
      }
      data.add(0.0);
      data.add(1.0);
      while (data.size() < 256) {
        data.add(0.0);
      }
      java.util.Collections.sort(data);
      float[] v = new float[256];
      for (int i = 0; i < 256; i++) {
        v[i] = data.get(i).floatValue();
      }
      return v;
    }

    private static double[] linspace(double a, double b, int n) {
      double[] x = new double[n];
      for (int i = 0; i < n; i++) {
        x[i] = n == 1 ? a : a + (b - a) * i / (n - 1);
      }
      return x;
    }

    /** The maxima after quantizing and dequantizing them. */
    static float[] roundTrip(float[] absmax) {
      double sum = 0;
      for (float a : absmax) {
        sum += a;
      }
      float offset = (float) (sum / absmax.length);
      float[] out = new float[absmax.length];
      for (int b0 = 0; b0 < absmax.length; b0 += 256) {
        int end = Math.min(absmax.length, b0 + 256);
        float m = 0;
        for (int i = b0; i < end; i++) {
          m = Math.max(m, Math.abs(absmax[i] - offset));
        }
        for (int i = b0; i < end; i++) {
          float x = m == 0 ? 0 : (absmax[i] - offset) / m;
          int best = 0;
          for (int c = 1; c < 256; c++) {
            if (Math.abs(VALUES[c] - x) < Math.abs(VALUES[best] - x)) {
              best = c;
            }
          }
          out[i] = VALUES[best] * m + offset;
        }
      }
      return out;
    }
  }
}
