package qdm.model;

import java.util.Arrays;
import java.util.List;

/**
 * Where a Hugging Face tensor's elements sit in the TransformerLens parameters it corresponds to:
 * what the paper's compression convention ({@code tl}) needs, since the authors' RTN takes one
 * scale per index of a TL parameter's last axis and their pruning one threshold per TL parameter.
 *
 * <p>The HF tensor is viewed as {@link #view}, its axes reordered by {@link #permutation}, and
 * flattened to a matrix whose rows are the TL scale groups (the product of the first {@link
 * #groupAxes} reordered axes: TL's last axis, plus the parameter index for a fused tensor) and
 * whose columns are every other element. The rows split into {@code names.size()} equal,
 * consecutive blocks, one per TL parameter. GPT-NeoX's fused {@code query_key_value} [(n 3 h), d]
 * is {@code view [n, 3, h, d]}, {@code permutation [1, 2, 0, 3]}, {@code groupAxes 2}: rows (qkv,
 * h), three blocks W_Q, W_K, W_V, each row one d_head index across every head. A tensor whose HF
 * rows are already TL's last axis is {@link #rows}.
 *
 * @param names the TL parameters the tensor holds, in block order
 * @param view the tensor's shape as TL's axes see it
 * @param permutation the order of {@code view}'s axes that puts the group axes first
 * @param groupAxes how many leading reordered axes index the scale groups
 */
public record TlLayout(List<String> names, long[] view, int[] permutation, int groupAxes) {

  public TlLayout {
    names = List.copyOf(names);
    view = view.clone();
    permutation = permutation.clone();
    if (permutation.length != view.length || groupAxes < 1 || groupAxes > view.length) {
      throw new IllegalArgumentException(
          "bad TL layout "
              + names
              + " "
              + Arrays.toString(view)
              + " "
              + Arrays.toString(permutation)
              + " "
              + groupAxes);
    }
    if (groups(view, permutation, groupAxes) % names.size() != 0) {
      throw new IllegalArgumentException(
          "TL layout " + names + ": groups do not split into " + names.size() + " parameters");
    }
  }

  /** One TL parameter whose last axis is the HF tensor's first: one scale per HF row. */
  public static TlLayout rows(String name, long[] shape) {
    int[] identity = new int[shape.length];
    for (int i = 0; i < identity.length; i++) {
      identity[i] = i;
    }
    return new TlLayout(
        List.of(name),
        shape.length == 0 ? new long[] {1} : shape,
        shape.length == 0 ? new int[] {0} : identity,
        1);
  }

  /**
   * One TL parameter whose last axis is the HF matrix's second ([out, in] stored as TL [out, in]).
   */
  public static TlLayout columns(String name, long rows, long cols) {
    return new TlLayout(List.of(name), new long[] {rows, cols}, new int[] {1, 0}, 1);
  }

  @Override
  public long[] view() {
    return view.clone();
  }

  @Override
  public int[] permutation() {
    return permutation.clone();
  }

  /** Number of scale groups (rows of the regrouped matrix). */
  public long groups() {
    return groups(view, permutation, groupAxes);
  }

  /** True if the regrouped matrix is the HF tensor itself ([rows, everything else]). */
  public boolean isRows() {
    for (int i = 0; i < permutation.length; i++) {
      if (permutation[i] != i) {
        return false;
      }
    }
    return groupAxes == 1;
  }

  private static long groups(long[] view, int[] permutation, int groupAxes) {
    long g = 1;
    for (int i = 0; i < groupAxes; i++) {
      g *= view[permutation[i]];
    }
    return g;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TlLayout t
        && names.equals(t.names)
        && Arrays.equals(view, t.view)
        && Arrays.equals(permutation, t.permutation)
        && groupAxes == t.groupAxes;
  }

  @Override
  public int hashCode() {
    return names.hashCode() * 31 + Arrays.hashCode(view);
  }

  @Override
  public String toString() {
    return names
        + " view "
        + Arrays.toString(view)
        + " perm "
        + Arrays.toString(permutation)
        + " groups "
        + groups();
  }
}
