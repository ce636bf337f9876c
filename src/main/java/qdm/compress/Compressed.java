package qdm.compress;

import qdm.model.Weights;

/**
 * The outcome of {@link Compression#apply}: the compressed weights (derived from the base, which
 * must stay open) and what the compression did. Closing it frees only the new tensors.
 */
public record Compressed(Weights weights, CompressionReport report) implements AutoCloseable {

  public Compressed {
    if (weights == null || report == null) {
      throw new IllegalArgumentException("weights and report are required");
    }
  }

  @Override
  public void close() {
    weights.close();
  }
}
