package qdm.model;

/**
 * What a checkpoint tensor is for. Compression chooses its targets by role, so it never needs to
 * know an architecture's tensor names.
 */
public enum TensorRole {
  /** Token embedding matrix. */
  EMBEDDING,
  /** Output projection to the vocabulary (may be tied to the embedding). */
  LM_HEAD,
  /** A linear weight inside a decoder block: attention and MLP projections. */
  DECODER_LINEAR,
  /** A normalization weight or bias. */
  NORM,
  /** The bias of a linear layer. */
  BIAS
}
