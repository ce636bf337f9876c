package qdm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-sequence-length tables one forward pass shares across its blocks: the rotary tables and the
 * attention masks (one per window size, made on first use).
 */
public final class Positions {
  private final NDManager manager;
  private final int seqLen;
  private final Rope.Tables rope;
  private final Map<Integer, NDArray> masks = new HashMap<>();

  Positions(NDManager manager, int seqLen, Rope.Tables rope) {
    this.manager = manager;
    this.seqLen = seqLen;
    this.rope = rope;
  }

  public int seqLen() {
    return seqLen;
  }

  public Rope.Tables rope() {
    return rope;
  }

  /** Causal mask, restricted to the last {@code window} keys when {@code window > 0}. */
  public NDArray mask(int window) {
    int key = window > 0 && window < seqLen ? window : 0;
    return masks.computeIfAbsent(key, w -> Attention.mask(manager, seqLen, w));
  }
}
