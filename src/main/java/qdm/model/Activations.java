package qdm.model;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The outputs of one forward pass, all under the batch's manager (closing it frees them).
 *
 * <p>Residuals are keyed by block index as TransformerLens {@code blocks.L.hook_resid_post}: the
 * raw output of block L. Hugging Face's {@code hidden_states} differ only in their last entry,
 * which has the final norm applied; {@link #hiddenStates()} rebuilds exactly that list.
 */
public final class Activations {
  private final NDArray embeddings;
  private final Map<Integer, NDArray> residPost;
  private final NDArray finalNormed;
  private final NDArray logits;
  private final NDArray nll;
  private final Map<HookPoint, NDArray> sites;

  Activations(
      NDArray embeddings,
      Map<Integer, NDArray> residPost,
      NDArray finalNormed,
      NDArray logits,
      NDArray nll) {
    this(embeddings, residPost, finalNormed, logits, nll, Map.of());
  }

  Activations(
      NDArray embeddings,
      Map<Integer, NDArray> residPost,
      NDArray finalNormed,
      NDArray logits,
      NDArray nll,
      Map<HookPoint, NDArray> sites) {
    this.sites = Collections.unmodifiableMap(new java.util.LinkedHashMap<>(sites));
    this.embeddings = embeddings;
    this.residPost = Collections.unmodifiableMap(new TreeMap<>(residPost));
    this.finalNormed = finalNormed;
    this.logits = logits;
    this.nll = nll;
  }

  /** {@code blocks.L.hook_resid_post} [B, T, d], if it was captured. */
  public NDArray residPost(int layer) {
    NDArray r = residPost.get(layer);
    if (r == null) {
      throw new IllegalStateException("the residual after block " + layer + " was not captured");
    }
    return r;
  }

  /**
   * The activations at {@code hook} [B, T, width], if the capture asked for them (see {@link
   * Capture#at}).
   */
  public NDArray at(HookPoint hook) {
    if (hook.site() == HookPoint.Site.RESID_POST) {
      return residPost(hook.layer());
    }
    if (hook.site() == HookPoint.Site.RESID_PRE && hook.layer() > 0) {
      return residPost(hook.layer() - 1);
    }
    NDArray a = sites.get(hook);
    if (a == null && hook.site() == HookPoint.Site.RESID_PRE && embeddings != null) {
      a = embeddings; // blocks.0.hook_resid_pre is the embedding output
    }
    if (a == null) {
      throw new IllegalStateException(hook + " was not captured");
    }
    return a;
  }

  /** Captured hook sites other than block outputs. */
  Map<HookPoint, NDArray> sites() {
    return sites;
  }

  /** The embedding output (Hugging Face {@code hidden_states[0]}), or null if not captured. */
  NDArray embeddings() {
    return embeddings;
  }

  /** The final-normed output of the last block, or null if not captured. */
  NDArray finalNormed() {
    return finalNormed;
  }

  /** Captured residuals by layer. */
  public Map<Integer, NDArray> residuals() {
    return residPost;
  }

  /**
   * Hugging Face {@code output_hidden_states}: index 0 the embedding output, i+1 the output of
   * block i for i &lt; L-1, and index L the final-normed output of the last block.
   */
  public List<NDArray> hiddenStates() {
    if (embeddings == null || finalNormed == null) {
      throw new IllegalStateException("hidden states were not captured");
    }
    List<NDArray> out = new ArrayList<>();
    out.add(embeddings);
    for (int i = 0; i < residPost.size() - 1; i++) {
      out.add(residPost(i));
    }
    out.add(finalNormed);
    return out;
  }

  /** Logits [B, T, V] (after any final soft-capping), if kept. */
  public Optional<NDArray> logits() {
    return Optional.ofNullable(logits);
  }

  /** {@code nll[b, t] = -log softmax(logits[b, t])[ids[b, t + 1]]}, float32 [B, T - 1]. */
  public Optional<NDArray> nll() {
    return Optional.ofNullable(nll);
  }
}
