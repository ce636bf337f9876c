package qdm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding in the "rotate half" layout (GPT-NeoX, Llama, Gemma): the first {@code
 * rotaryDims} dimensions of each head rotate, dimension j paired with j + rotaryDims/2; the
 * remaining dimensions pass through (GPT-NeoX's {@code rotary_pct}).
 *
 * <p>Applied as {@code x * C + (x R) * S} with C, S of shape [T, headDim] and R a signed
 * permutation matrix [headDim, headDim] implementing {@code rotate_half}. Pass-through dimensions
 * have C = 1, S = 0 and zero rows in R, so a partial rotation needs no slicing or concatenation,
 * and the result is exact for them. Angles follow transformers: {@code inv_freq[j] = theta^(-2j /
 * rotaryDims)} and {@code angle = position * inv_freq}, both in float32.
 */
public final class Rope {
  private final int headDim;
  private final int rotaryDims;
  private final double theta;
  private final RopeScaling scaling;

  public Rope(int headDim, int rotaryDims, double theta) {
    this(headDim, rotaryDims, theta, RopeScaling.none());
  }

  /** Rotary embedding with transformers' frequency scaling ({@code rope_scaling}). */
  public Rope(int headDim, int rotaryDims, double theta, RopeScaling scaling) {
    if (rotaryDims % 2 != 0 || rotaryDims > headDim || rotaryDims < 0) {
      throw new IllegalArgumentException(
          "rotary dims " + rotaryDims + " must be even and at most the head dim " + headDim);
    }
    this.headDim = headDim;
    this.rotaryDims = rotaryDims;
    this.theta = theta;
    this.scaling = scaling;
  }

  /** The position tables for sequences of length {@code seqLen}, on the manager's device. */
  public Tables tables(NDManager manager, int seqLen, DataType dtype) {
    int half = rotaryDims / 2;
    float[] invFreq = scaling.invFreq(rotaryDims, theta, seqLen);
    float[] cos = new float[seqLen * headDim];
    float[] sin = new float[seqLen * headDim];
    for (int t = 0; t < seqLen; t++) {
      for (int d = 0; d < headDim; d++) {
        int at = t * headDim + d;
        if (d < rotaryDims) {
          float angle = (float) t * invFreq[d % half];
          cos[at] = (float) Math.cos(angle);
          sin[at] = (float) Math.sin(angle);
        } else {
          cos[at] = 1f;
          sin[at] = 0f;
        }
      }
    }
    float[] rotate = new float[headDim * headDim];
    for (int j = 0; j < half; j++) {
      rotate[(j + half) * headDim + j] = -1f; // out[j] = -x[j + half]
      rotate[j * headDim + j + half] = 1f; // out[j + half] = x[j]
    }
    Shape table = new Shape(seqLen, headDim);
    return new Tables(
        manager.create(cos, table).toType(dtype, false),
        manager.create(sin, table).toType(dtype, false),
        manager.create(rotate, new Shape(headDim, headDim)).toType(dtype, false));
  }

  /** Cos, sin and rotate-half tables for one sequence length. */
  public record Tables(NDArray cos, NDArray sin, NDArray rotate) {

    /** Rotates {@code x} [B, H, T, headDim]. */
    public NDArray apply(NDArray x) {
      return x.matMul(rotate).muli(sin).addi(x.mul(cos)); // in place on the fresh product
    }
  }
}
