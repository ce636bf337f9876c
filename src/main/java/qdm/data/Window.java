package qdm.data;

import java.util.Arrays;

/**
 * A slice of the token stream fed to the model as one sequence.
 *
 * @param id stable id: the window's index within its kind
 * @param kind {@link #CHUNK} (non-overlapping; SAE codes and chunked perplexity) or {@link #SLIDE}
 *     (overlapping; sliding-window perplexity)
 * @param start offset of the first token in the stream
 * @param tokens the token ids
 * @param scoreFrom the first position whose token is scored as a target; every target position
 *     {@code j >= max(scoreFrom, 1)} is predicted from positions {@code < j}
 */
public record Window(long id, String kind, long start, int[] tokens, int scoreFrom) {
  public static final String CHUNK = "chunk";
  public static final String SLIDE = "slide";

  public Window {
    tokens = tokens.clone();
    if (scoreFrom < 0 || scoreFrom > tokens.length) {
      throw new IllegalArgumentException("score_from " + scoreFrom + " outside the window");
    }
  }

  @Override
  public int[] tokens() {
    return tokens.clone();
  }

  public int length() {
    return tokens.length;
  }

  /** The first position whose NLL row is scored: predicting target j happens at j - 1. */
  public int firstScoredPosition() {
    return Math.max(scoreFrom, 1) - 1;
  }

  /** Number of targets this window scores. */
  public int scoredTargets() {
    return tokens.length - Math.max(scoreFrom, 1);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Window w
        && id == w.id
        && kind.equals(w.kind)
        && start == w.start
        && scoreFrom == w.scoreFrom
        && Arrays.equals(tokens, w.tokens);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(id) * 31 + Arrays.hashCode(tokens);
  }
}
