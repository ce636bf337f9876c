package qdm.model;

import java.util.Arrays;
import java.util.Optional;

/**
 * One tensor an architecture expects in a checkpoint: its Hugging Face name, shape and role, and
 * how it maps onto TransformerLens parameters.
 *
 * @param tiedTo a tensor to use when this one is absent (Gemma-2's {@code lm_head.weight} falls
 *     back to {@code model.embed_tokens.weight}, as in real checkpoints)
 * @param tl the TransformerLens parameters this tensor holds (by default one, whose last axis is
 *     this tensor's first: a TL name equal to the HF name)
 */
public record TensorSpec(
    String name, long[] shape, TensorRole role, Optional<String> tiedTo, TlLayout tl) {

  public TensorSpec {
    shape = shape.clone();
  }

  /** A required tensor. */
  public static TensorSpec of(String name, TensorRole role, long... shape) {
    return new TensorSpec(name, shape, role, Optional.empty(), TlLayout.rows(name, shape));
  }

  /** A tensor that falls back to {@code tiedTo} when the checkpoint does not have it. */
  public static TensorSpec tied(String name, String tiedTo, TensorRole role, long... shape) {
    return new TensorSpec(name, shape, role, Optional.of(tiedTo), TlLayout.rows(name, shape));
  }

  /** This spec with its TransformerLens layout. */
  public TensorSpec withTl(TlLayout layout) {
    return new TensorSpec(name, shape, role, tiedTo, layout);
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t
        && name.equals(t.name)
        && Arrays.equals(shape, t.shape)
        && role == t.role
        && tiedTo.equals(t.tiedTo)
        && tl.equals(t.tl);
  }

  @Override
  public int hashCode() {
    return name.hashCode();
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape);
  }
}
