package qdm.sae;

/**
 * The non-zero SAE activations of a batch of tokens, as three parallel arrays sorted by token then
 * feature: entry i says feature {@code feature[i]} fired with {@code activation[i]} on token {@code
 * token[i]} (the row of the encoded batch). Zeros are left out; they enter the analysis through the
 * token count.
 *
 * <p>The arrays are shared, not copied: treat them as read-only.
 *
 * @param tokens number of tokens (rows) in the batch, including tokens with no active feature
 * @param dSae number of SAE features
 */
public record SparseCodes(int tokens, int dSae, int[] token, int[] feature, float[] activation) {

  public SparseCodes {
    if (tokens < 0 || dSae <= 0) {
      throw new IllegalArgumentException("tokens " + tokens + ", dSae " + dSae);
    }
    if (token.length != feature.length || token.length != activation.length) {
      throw new IllegalArgumentException(
          "parallel arrays differ in length: "
              + token.length
              + ", "
              + feature.length
              + ", "
              + activation.length);
    }
    for (int i = 0; i < token.length; i++) {
      if (token[i] < 0 || token[i] >= tokens || feature[i] < 0 || feature[i] >= dSae) {
        throw new IllegalArgumentException(
            "entry "
                + i
                + " (token "
                + token[i]
                + ", feature "
                + feature[i]
                + ") is outside "
                + tokens
                + " tokens x "
                + dSae
                + " features");
      }
    }
  }

  /** The codes of consecutive batches as one batch: tokens of part i follow those of i - 1. */
  public static SparseCodes concat(java.util.List<SparseCodes> parts, int dSae) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    int n = 0;
    int tokens = 0;
    for (SparseCodes p : parts) {
      if (p.dSae() != dSae) {
        throw new IllegalArgumentException(
            "cannot join codes of " + p.dSae() + " and " + dSae + " features");
      }
      n += p.size();
      tokens += p.tokens();
    }
    int[] token = new int[n];
    int[] feature = new int[n];
    float[] activation = new float[n];
    int at = 0;
    int offset = 0;
    for (SparseCodes p : parts) {
      for (int i = 0; i < p.size(); i++) {
        token[at + i] = p.token[i] + offset;
      }
      System.arraycopy(p.feature, 0, feature, at, p.size());
      System.arraycopy(p.activation, 0, activation, at, p.size());
      at += p.size();
      offset += p.tokens();
    }
    return new SparseCodes(tokens, dSae, token, feature, activation);
  }

  /** Number of non-zero activations. */
  public int size() {
    return token.length;
  }

  /** Mean number of active features per token (0 for an empty batch). */
  public double l0() {
    return tokens == 0 ? 0 : (double) size() / tokens;
  }

  /** The dense [tokens, dSae] row-major activations; for tests and small batches. */
  public float[] toDense() {
    float[] dense = new float[Math.multiplyExact(tokens, dSae)];
    for (int i = 0; i < size(); i++) {
      dense[token[i] * dSae + feature[i]] = activation[i];
    }
    return dense;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SparseCodes c
        && tokens == c.tokens
        && dSae == c.dSae
        && java.util.Arrays.equals(token, c.token)
        && java.util.Arrays.equals(feature, c.feature)
        && java.util.Arrays.equals(activation, c.activation);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(feature) * 31 + tokens;
  }

  @Override
  public String toString() {
    return "SparseCodes[" + tokens + " tokens, " + size() + " non-zeros of " + dSae + "]";
  }
}
