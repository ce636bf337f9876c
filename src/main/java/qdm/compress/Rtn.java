package qdm.compress;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Map;
import java.util.Set;
import qdm.QdmException;
import qdm.model.TensorRole;
import qdm.model.TlLayout;
import qdm.model.Weights;

/**
 * Round-to-nearest weight quantization (fake-quantized: the weights stay floats that take at most
 * 2^bits values per row or group).
 *
 * <p>Symmetric (the paper's definition, docs/method.md §8): per row (or per group of {@code
 * groupSize} consecutive input columns of a row), qmax = 2^(b-1) - 1, qmin = -2^(b-1), scale =
 * max|w| / qmax (0 becomes 1), q = clamp(round_half_even(w / scale), qmin, qmax), w_hat = q *
 * scale. Asymmetric (the GPTQ RTN baseline): xmin = min(min(w), 0), xmax = max(max(w), 0) (both 0
 * become -1 and +1), scale = (xmax - xmin) / (2^b - 1), zero = round(-xmin / scale), q =
 * clamp(round(w / scale) + zero, 0, 2^b - 1), w_hat = scale * (q - zero). All in float32 with
 * PyTorch's half-to-even rounding; float16 weights are cast to float32 first and back after.
 *
 * @param bits bits per weight, 2 to 8
 * @param groupSize input columns per scale; 0 for one scale per output row
 * @param asymmetric a zero point per row or group (GPTQ's RTN) instead of a symmetric grid
 *     <p>Under the {@link Convention#TL} convention (the paper's code) the scales are those of the
 *     TransformerLens parameters: one per index of a TL parameter's last axis ({@link TlGroups}).
 * @param targets the roles of the tensors to quantize
 * @param convention HF rows or TransformerLens channels
 */
public record Rtn(
    int bits, int groupSize, boolean asymmetric, Set<TensorRole> targets, Convention convention)
    implements Compression {
  private static final long serialVersionUID = 1L;

  /** {@code rtn:BITS[:gGROUP][:asym][:targets=...][:tl|:hf]}. */
  public static final Method METHOD =
      new Method(
          "rtn",
          "round-to-nearest, bits 2-8, one scale per row (or group of input columns), symmetric "
              + "or with a zero point",
          List.of(
              Param.integer(
                  "bits",
                  "bits",
                  "BITS",
                  v -> (int) v >= 2 && (int) v <= 8 ? null : "must be between 2 and 8, got " + v),
              Param.prefixed(
                  "group-size",
                  "group size",
                  "g",
                  "GROUP",
                  0,
                  v ->
                      (int) v > 0
                          ? null
                          : "must be positive, got " + v + " (leave it out for one scale per row)"),
              Param.flag("asymmetric", "asym"),
              Param.targets(),
              Param.convention()),
          s -> {
            if (s.convention("convention") == Convention.TL && s.integer("group-size") > 0) {
              int g = s.integer("group-size");
              throw new Param.Invalid(
                  "group-size",
                  g
                      + " and convention = tl do not go together "
                      + "(:g"
                      + g
                      + " and :tl): the tl convention has one scale per TransformerLens "
                      + "channel");
            }
            return new Rtn(
                s.integer("bits"),
                s.integer("group-size"),
                s.flag("asymmetric"),
                s.roles("targets"),
                s.convention("convention"));
          });

  public Rtn {
    if (convention == Convention.TL && groupSize > 0) {
      throw new QdmException(
          "rtn: the tl convention has one scale per TransformerLens channel; "
              + "a group size (:g"
              + groupSize
              + ") does not apply to it");
    }
    if (bits < 2 || bits > 8) {
      throw new QdmException("rtn bits must be between 2 and 8, got " + bits);
    }
    if (groupSize < 0) {
      throw new QdmException(
          "rtn group size must be positive (or 0 for one scale per row), got " + groupSize);
    }
    targets = Targets.check(targets);
  }

  /** HF-convention RTN. */
  public Rtn(int bits, int groupSize, boolean asymmetric, Set<TensorRole> targets) {
    this(bits, groupSize, asymmetric, targets, Convention.HF);
  }

  /** Symmetric RTN, one scale per row, decoder linear weights. */
  public Rtn(int bits) {
    this(bits, 0, false, DEFAULT_TARGETS);
  }

  @Override
  public Method method() {
    return METHOD;
  }

  @Override
  public Settings settings() {
    return Settings.of(
        "bits",
        bits,
        "group-size",
        groupSize,
        "asymmetric",
        asymmetric,
        "targets",
        targets,
        "convention",
        convention);
  }

  @Override
  public Compressed apply(Weights base) {
    return apply(base, RowBlocks.DEFAULT);
  }

  Compressed apply(Weights base, RowBlocks blocks) {
    checkGroups(WeightRewrite.targets(base, targets));
    return WeightRewrite.apply(
        base,
        targets,
        METHOD.id(),
        (name, src) -> {
          TlLayout layout = base.tl(name);
          if (convention == Convention.HF || layout.isRows()) {
            return this::quantize;
          }
          // one scale per TL channel: quantize the rows of the regrouped tensor
          return WeightRewrite.whole(
              w32 -> TlGroups.back(quantize(TlGroups.of(w32, layout)), layout, w32.getShape()));
        },
        blocks);
  }

  /**
   * Quantizes a float32 matrix [rows, rowLength] and returns w_hat as float32 under the manager of
   * {@code w32}. The row length must be a multiple of the group size.
   */
  public NDArray quantize(NDArray w32) {
    if (w32.getShape().dimension() != 2 || w32.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException(
          "rtn works on float32 [rows, rowLength], got "
              + w32.getDataType()
              + " "
              + w32.getShape());
    }
    long rows = w32.getShape().get(0);
    long rowLength = w32.getShape().get(1);
    long group = groupSize == 0 ? rowLength : groupSize;
    if (rowLength % group != 0) {
      throw new QdmException(
          "group size " + group + " does not divide the row length " + rowLength);
    }
    NDArray g = w32.reshape(rows, rowLength / group, group);
    NDArray w = asymmetric ? asymmetric(g) : symmetric(g);
    return w.reshape(rows, rowLength);
  }

  private NDArray symmetric(NDArray g) {
    int qmax = (1 << (bits - 1)) - 1;
    int qmin = -(1 << (bits - 1));
    NDArray scale = g.abs().max(new int[] {2}, true).div((float) qmax);
    // A zero row has a zero scale: use 1 (w / 1 = 0 keeps it zero); adding the 0/1 mask is exact.
    scale = scale.add(scale.eq(0f).toType(scale.getDataType(), false));
    return g.div(scale).round().clip(qmin, qmax).mul(scale);
  }

  private NDArray asymmetric(NDArray g) {
    float maxq = (1 << bits) - 1;
    NDArray xmin = g.min(new int[] {2}, true).minimum(0f);
    NDArray xmax = g.max(new int[] {2}, true).maximum(0f);
    // An all-zero group gets [-1, 1]: its xmin and xmax are 0 there, so adding the 0/1 mask is
    // exact.
    NDArray empty = xmin.eq(0f).logicalAnd(xmax.eq(0f)).toType(g.getDataType(), false);
    xmin = xmin.sub(empty);
    xmax = xmax.add(empty);
    NDArray scale = xmax.sub(xmin).div(maxq);
    NDArray zero = xmin.neg().div(scale).round();
    NDArray q = g.div(scale).round().add(zero).clip(0f, maxq);
    return q.sub(zero).mul(scale);
  }

  /** Every target's row length must be a multiple of the group size: checked before any work. */
  private void checkGroups(Map<String, NDArray> tensors) {
    if (groupSize == 0) {
      return;
    }
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      long rowLength = RowBlocks.rowLength(e.getValue());
      if (rowLength % groupSize != 0) {
        throw new QdmException(
            "group size "
                + groupSize
                + " does not divide the row "
                + "length "
                + rowLength
                + " of tensor '"
                + e.getKey()
                + "' "
                + e.getValue().getShape()
                + "; expected a group size that divides every target's row length");
      }
    }
  }
}
