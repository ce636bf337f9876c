package qdm.model;

import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a forward pass keeps, and so how far it must run.
 *
 * <p>A pass that needs neither logits, NLL nor the final hidden state stops after the last block
 * whose residual is kept: the SAE-codes pass for a hook at layer 4 of a 6-layer model runs 5 blocks
 * and no unembedding.
 *
 * @param residuals layers whose {@code blocks.L.hook_resid_post} is kept
 * @param hiddenStates keep Hugging Face's {@code output_hidden_states} (embedding output, every
 *     block output, and the final-normed last one)
 * @param logits keep the logits
 * @param nll compute per-token next-token negative log-likelihood
 * @param sites hook sites to keep besides block outputs ({@code hook_attn_out}, {@code
 *     hook_mlp_out}, {@code hook_resid_mid}, {@code attn.hook_z}, {@code blocks.0.hook_resid_pre})
 */
public record Capture(
    Set<Integer> residuals,
    boolean hiddenStates,
    boolean logits,
    boolean nll,
    Set<HookPoint> sites) {

  public Capture {
    residuals = Collections.unmodifiableSet(new TreeSet<>(residuals));
    sites = Set.copyOf(sites);
  }

  /** A capture of block outputs only. */
  public Capture(Set<Integer> residuals, boolean hiddenStates, boolean logits, boolean nll) {
    this(residuals, hiddenStates, logits, nll, Set.of());
  }

  /** Only the activations at {@code hook}; the pass stops after the block that makes them. */
  public static Capture at(HookPoint hook) {
    return of(hook, false);
  }

  /** The activations at {@code hook} and the NLL of every next token (logits dropped). */
  public static Capture atAndNll(HookPoint hook) {
    return of(hook, true);
  }

  private static Capture of(HookPoint hook, boolean nll) {
    if (hook.site() == HookPoint.Site.RESID_POST) {
      return new Capture(Set.of(hook.layer()), false, false, nll);
    }
    if (hook.site() == HookPoint.Site.RESID_PRE && hook.layer() > 0) {
      return new Capture(Set.of(hook.layer() - 1), false, false, nll);
    }
    return new Capture(Set.of(), false, false, nll, Set.of(hook));
  }

  /** Everything: hidden states, every residual, logits and NLL (the {@code forward} command). */
  public static Capture everything() {
    return new Capture(Set.of(), true, true, true);
  }

  /** Only the residual after block {@code layer}; the pass stops there. */
  public static Capture residualAt(int layer) {
    return new Capture(Set.of(layer), false, false, false);
  }

  /** The residual after block {@code layer} and the NLL of every next token (logits dropped). */
  public static Capture residualAndNll(int layer) {
    return new Capture(Set.of(layer), false, false, true);
  }

  /** Only the NLL (perplexity). */
  public static Capture nllOnly() {
    return new Capture(Set.of(), false, false, true);
  }

  /**
   * The NLL of every next token computed from whole logits, for training: the gradient flows
   * through one unembedding and one log-softmax, in the order the shipped demo model was trained
   * with. ({@link #nllOnly()} unembeds in chunks of rows to save memory in inference. Its NaN
   * gradients, seen once in {@code demo train-lm}, came from the attention scale's scalar being
   * freed before backward, not from the chunks: see {@link Ops#scalar}.)
   */
  public static Capture logitsAndNll() {
    return new Capture(Set.of(), false, true, true);
  }

  /** True if the pass must reach the unembedding. */
  public boolean needsHead() {
    return logits || nll;
  }

  /** Index of the last block the pass must run, for a model of {@code numLayers} blocks. */
  public int lastLayer(int numLayers) {
    if (hiddenStates || needsHead()) {
      return numLayers - 1;
    }
    int last = residuals.stream().mapToInt(Integer::intValue).max().orElse(-1);
    for (HookPoint h : sites) {
      last = Math.max(last, h.block());
    }
    return last;
  }

  /** True if the residual after block {@code layer} is kept. */
  public boolean keeps(int layer) {
    return hiddenStates || residuals.contains(layer);
  }
}
