package qdm.compress;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import qdm.model.TlLayout;

/**
 * An HF tensor rearranged as the TransformerLens convention groups it: a matrix whose rows are the
 * TL scale groups ({@link TlLayout}), and back.
 */
final class TlGroups {
  private TlGroups() {}

  /** {@code w} (any shape with the layout's element count) as [groups, elements per group]. */
  static NDArray of(NDArray w, TlLayout layout) {
    long groups = layout.groups();
    return w.reshape(new Shape(layout.view()))
        .transpose(layout.permutation())
        .reshape(groups, w.size() / groups);
  }

  /** The inverse of {@link #of}: grouped rows back to the HF tensor's {@code shape}. */
  static NDArray back(NDArray grouped, TlLayout layout, Shape shape) {
    long[] view = layout.view();
    int[] perm = layout.permutation();
    long[] permuted = new long[view.length];
    int[] inverse = new int[perm.length];
    for (int i = 0; i < perm.length; i++) {
      permuted[i] = view[perm[i]];
      inverse[perm[i]] = i;
    }
    return grouped.reshape(new Shape(permuted)).transpose(inverse).reshape(shape);
  }
}
