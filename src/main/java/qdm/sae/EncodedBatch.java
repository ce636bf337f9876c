package qdm.sae;

/** One batch encoded: its sparse codes on the host and its reconstruction figures. */
public record EncodedBatch(SparseCodes codes, Reconstruction figures) {

  public EncodedBatch {
    if (codes.tokens() != figures.tokens() || codes.size() != figures.nonZeros()) {
      throw new IllegalArgumentException(codes + " disagrees with " + figures);
    }
  }
}
