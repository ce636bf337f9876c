package qdm.compress;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import java.util.List;
import java.util.Map;
import java.util.Set;
import qdm.QdmException;
import qdm.model.TensorRole;
import qdm.model.TlLayout;
import qdm.model.Weights;

/**
 * Unstructured magnitude pruning (docs/method.md, "Magnitude pruning"): k = floor(sparsity *
 * numel), the threshold is the k-th smallest |w| (1-based), and every weight with |w| <= threshold
 * becomes 0, so ties at the threshold are all zeroed and slightly more than k weights may go; k = 0
 * changes nothing. Per tensor by default; {@code global} uses one threshold over all target tensors
 * together (k over their total count), found exactly without gathering them into one array.
 *
 * @param sparsity fraction of weights to remove, in [0, 1)
 * @param global one threshold over all targets instead of one per tensor
 *     <p>Under the {@link Convention#TL} convention a tensor that holds several TransformerLens
 *     parameters (GPT-NeoX's fused QKV: W_Q, W_K, W_V) gets one threshold per parameter, as the
 *     paper's code prunes them.
 * @param targets the roles of the tensors to prune
 * @param convention per HF tensor or per TransformerLens parameter
 */
public record MagnitudePruning(
    double sparsity, boolean global, Set<TensorRole> targets, Convention convention)
    implements Compression {
  private static final long serialVersionUID = 1L;

  /** {@code prune:FRACTION[:global][:targets=...][:tl|:hf]}. */
  public static final Method METHOD =
      new Method(
          "prune",
          "unstructured magnitude pruning, one threshold per tensor or one global threshold",
          List.of(
              Param.fraction(
                  "sparsity",
                  "fraction",
                  "FRACTION",
                  v ->
                      (double) v >= 0 && (double) v < 1
                          ? null
                          : "must be in [0, 1) (0.3 for 30%), got " + v),
              Param.flag("global", "global"),
              Param.targets(),
              Param.convention()),
          s ->
              new MagnitudePruning(
                  s.fraction("sparsity"),
                  s.flag("global"),
                  s.roles("targets"),
                  s.convention("convention")));

  public MagnitudePruning {
    if (!(sparsity >= 0 && sparsity < 1)) {
      throw new QdmException(
          "pruning sparsity must be a fraction in [0, 1) (0.3 for 30%), got " + sparsity);
    }
    targets = Targets.check(targets);
  }

  /** HF-convention pruning. */
  public MagnitudePruning(double sparsity, boolean global, Set<TensorRole> targets) {
    this(sparsity, global, targets, Convention.HF);
  }

  /** Per-tensor pruning of the decoder linear weights. */
  public MagnitudePruning(double sparsity) {
    this(sparsity, false, DEFAULT_TARGETS);
  }

  @Override
  public Method method() {
    return METHOD;
  }

  @Override
  public Settings settings() {
    return Settings.of(
        "sparsity", sparsity, "global", global, "targets", targets, "convention", convention);
  }

  /** The same pruning at another sparsity (the probes of a matched search). */
  public MagnitudePruning withSparsity(double other) {
    return new MagnitudePruning(other, global, targets, convention);
  }

  /** Weights to remove out of {@code numel}: floor(sparsity * numel), in float64 as Python. */
  public long count(long numel) {
    return (long) Math.floor(sparsity * numel);
  }

  @Override
  public Compressed apply(Weights base) {
    return apply(base, RowBlocks.DEFAULT);
  }

  Compressed apply(Weights base, RowBlocks blocks) {
    if (!global) {
      return WeightRewrite.apply(
          base,
          targets,
          METHOD.id(),
          (name, src) -> {
            TlLayout layout = base.tl(name);
            if (convention == Convention.TL && layout.names().size() > 1) {
              return WeightRewrite.whole(w32 -> perParameter(w32, layout, blocks));
            }
            long k = count(src.size());
            return k == 0
                ? null
                : below(KthSmallest.ofAbs(Map.of(name, src), k, blocks, base.manager()));
          },
          blocks);
    }
    Map<String, NDArray> all = WeightRewrite.targets(base, targets);
    long k = count(all.values().stream().mapToLong(NDArray::size).sum());
    WeightRewrite.Rows rows =
        k == 0 ? null : below(KthSmallest.ofAbs(all, k, blocks, base.manager()));
    return WeightRewrite.apply(base, targets, METHOD.id(), (name, src) -> rows, blocks);
  }

  /**
   * Prunes each TransformerLens parameter of a fused tensor with its own threshold: the regrouped
   * rows split into one block per parameter.
   */
  private NDArray perParameter(NDArray w32, TlLayout layout, RowBlocks blocks) {
    NDArray grouped = TlGroups.of(w32, layout);
    int parts = layout.names().size();
    long rowsPer = grouped.getShape().get(0) / parts;
    NDList pruned = new NDList();
    for (int p = 0; p < parts; p++) {
      NDArray part = grouped.get(new NDIndex("{}:{}", p * rowsPer, (p + 1) * rowsPer));
      long k = count(part.size());
      pruned.add(
          k == 0
              ? part
              : below(
                      KthSmallest.ofAbs(
                          Map.of(layout.names().get(p), part), k, blocks, w32.getManager()))
                  .apply(part));
    }
    return TlGroups.back(NDArrays.concat(pruned, 0), layout, w32.getShape());
  }

  /** Zeroes every weight with |w| <= threshold. */
  private static WeightRewrite.Rows below(float threshold) {
    return w32 -> NDArrays.where(w32.abs().gt(threshold), w32, w32.zerosLike());
  }
}
