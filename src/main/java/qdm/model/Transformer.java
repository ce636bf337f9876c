package qdm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A decoder-only transformer over DJL NDArrays: the loop every architecture shares.
 *
 * <p>Subclasses write the architecture (embedding, one block, final norm, unembedding) with their
 * Hugging Face tensor names; this class runs the blocks, captures the residual stream, stops early
 * when nothing later is needed, and computes the next-token NLL.
 *
 * <p>Memory: everything a pass returns lives under the manager of {@code ids} (a per-batch manager
 * the caller closes). Each block runs under a scratch manager that is closed when the block ends,
 * so intermediates (attention scores, MLP activations) never pile up over layers. Weights are only
 * ever the second operand of an op ({@code x.matMul(w)}), so nothing is attached to the model's
 * long-lived manager.
 *
 * <p>Array sizes on the CPU: glibc serves allocations above its mmap threshold (32 MiB at most)
 * with fresh memory maps, every page of which faults on first touch. Measured on 2 cores, those
 * faults, not the arithmetic, dominated elementwise ops over [8, 8, 512, 512] attention scores and
 * even large matmul outputs. So a CPU pass keeps its intermediates to a few tens of MiB, which the
 * allocator recycles: it runs large batches in groups of sequences, attention in groups of
 * sequences ({@link Attention}), and the next-token NLL in chunks of rows, never making the [B, T,
 * V] logits unless they are asked for.
 */
public abstract class Transformer {
  /**
   * Tokens per group of sequences in a CPU forward pass (at least one sequence). With 2048 tokens
   * the Pythia-70M MLP activations are 16 MiB; on 2 cores this ran the blocks about 1.5x faster
   * than one group of 4096 tokens (measured with {@code qdm bench forward}).
   */
  static final long GROUP_TOKENS = 2048;

  /**
   * Logits bytes per NLL chunk: 125 rows of a 50304 vocabulary. 256 rows (51 MiB) ran the head 1.7x
   * slower on 2 cores; 41 rows made the head matmul too skinny to run at full speed.
   */
  static final long NLL_CHUNK_BYTES = 24L << 20;

  protected final Weights weights;

  protected Transformer(Weights weights) {
    this.weights = weights;
  }

  /** The model's configuration. */
  public abstract ModelConfig config();

  /** The weights this model computes with. */
  public Weights weights() {
    return weights;
  }

  /** Token ids [B, T] (int64) to the residual stream entering block 0, [B, T, d]. */
  protected abstract NDArray embed(NDArray ids);

  /**
   * Block {@code layer}: residual in, residual out. The block offers its inner activations to
   * {@code taps} ({@link HookPoint.Site#ATTN_OUT}, {@code MLP_OUT}, {@code RESID_MID}, {@code
   * ATTN_Z}) before changing them in place.
   */
  protected abstract NDArray block(int layer, NDArray x, Positions positions, Taps taps);

  /** The final norm applied to the last block's output. */
  protected abstract NDArray finalNorm(NDArray x);

  /** Final-normed hidden state to logits [B, T, V]. */
  protected abstract NDArray unembed(NDArray normed);

  /** Rotary tables for sequences of {@code seqLen} tokens. */
  protected abstract Rope.Tables rope(NDManager manager, int seqLen);

  /** The dtype activations are computed in. */
  public DataType dtype() {
    return weights.get(weights.names().iterator().next()).getDataType();
  }

  /**
   * Runs the model on token ids [B, T] (int64, on the model's device) and returns what {@code
   * capture} asks for, under the manager of {@code ids}.
   *
   * <p>On the CPU a large batch runs as groups of sequences of about {@link #GROUP_TOKENS} tokens
   * each, whose outputs are concatenated: every op is per sequence, so the result is the same,
   * while the intermediates stay small enough to be recycled (see the class comment).
   */
  public final Activations forward(NDArray ids, Capture capture) {
    return forward(ids, capture, GROUP_TOKENS);
  }

  /**
   * {@link #forward(NDArray, Capture)} over the whole batch in one piece, for training: one
   * autograd graph whose gradient sums run in the same order whatever the batch size, so a seeded
   * training run gives the same bits as before the CPU grouping existed (the shipped demo model was
   * trained this way). Memory grows with the batch.
   */
  public final Activations forwardWhole(NDArray ids, Capture capture) {
    return forward(ids, capture, Long.MAX_VALUE);
  }

  /** {@link #forward(NDArray, Capture)} with groups of about {@code groupTokens} tokens. */
  final Activations forward(NDArray ids, Capture capture, long groupTokens) {
    long batchSize = ids.getShape().get(0);
    long seqLen = ids.getShape().get(1);
    long group = ids.getDevice().isGpu() ? batchSize : Math.max(1, groupTokens / seqLen);
    if (group >= batchSize) {
      return forwardAll(ids, capture);
    }
    NDManager batch = ids.getManager();
    List<NDManager> managers = new ArrayList<>();
    try {
      List<Activations> parts = new ArrayList<>();
      for (long b = 0; b < batchSize; b += group) {
        NDManager part = batch.newSubManager();
        managers.add(part);
        NDArray rows = ids.get(new NDIndex("{}:{}", b, Math.min(batchSize, b + group)));
        rows.attach(part);
        parts.add(forwardAll(rows, capture));
      }
      Map<Integer, NDArray> residuals = new LinkedHashMap<>();
      for (int layer : parts.get(0).residuals().keySet()) {
        residuals.put(layer, concat(batch, parts, a -> a.residPost(layer)));
      }
      Map<HookPoint, NDArray> sites = new LinkedHashMap<>();
      for (HookPoint h : parts.get(0).sites().keySet()) {
        sites.put(h, concat(batch, parts, a -> a.sites().get(h)));
      }
      return new Activations(
          concat(batch, parts, Activations::embeddings),
          residuals,
          concat(batch, parts, Activations::finalNormed),
          concat(batch, parts, a -> a.logits().orElse(null)),
          concat(batch, parts, a -> a.nll().orElse(null)),
          sites);
    } finally {
      managers.forEach(NDManager::close);
    }
  }

  /** Concatenates one output of every group along the batch axis, under {@code batch}. */
  private static NDArray concat(
      NDManager batch, List<Activations> parts, Function<Activations, NDArray> field) {
    if (field.apply(parts.get(0)) == null) {
      return null;
    }
    NDList list = new NDList();
    parts.forEach(p -> list.add(field.apply(p)));
    NDArray out = Ops.concat(list, 0);
    out.attach(batch);
    return out;
  }

  private Activations forwardAll(NDArray ids, Capture capture) {
    int numLayers = config().numLayers();
    int last = capture.lastLayer(numLayers);
    NDManager batch = ids.getManager();
    int seqLen = Math.toIntExact(ids.getShape().get(1));
    Positions positions = new Positions(batch, seqLen, rope(batch, seqLen));

    NDArray x = embed(ids);
    NDArray embeddings = capture.hiddenStates() ? x : null;
    Taps taps = new Taps(capture.sites(), batch);
    HookPoint embedOut = new HookPoint(0, HookPoint.Site.RESID_PRE);
    if (capture.sites().contains(embedOut)) {
      taps.at(0);
      taps.offer(HookPoint.Site.RESID_PRE, x);
    }
    Map<Integer, NDArray> kept = new LinkedHashMap<>();
    for (int layer = 0; layer <= last; layer++) {
      NDArray input = x;
      try (NDManager scratch = batch.newSubManager()) {
        input.tempAttach(scratch); // intermediates follow their first operand into scratch
        taps.at(layer);
        x = block(layer, input, positions, taps);
        x.attach(batch);
      }
      boolean inputKept = layer == 0 ? embeddings != null : capture.keeps(layer - 1);
      if (!inputKept) {
        input.close();
      }
      if (capture.keeps(layer)) {
        kept.put(layer, x);
      }
    }
    NDArray finalNormed = null;
    NDArray logits = null;
    NDArray nll = null;
    if (capture.hiddenStates() || capture.needsHead()) {
      finalNormed = finalNorm(x);
      if (capture.logits()) {
        logits = unembed(finalNormed);
        if (capture.nll()) {
          nll = nextTokenNll(logits, ids);
        }
      } else if (capture.nll()) {
        nll = nextTokenNllChunked(finalNormed, ids, rowsPerChunk(config().vocabSize()));
      }
      if (!capture.hiddenStates()) {
        finalNormed.close();
        finalNormed = null;
      }
    }
    return new Activations(embeddings, kept, finalNormed, logits, nll, taps.taken());
  }

  /**
   * Logits [N, V] (after any final soft-cap) of rows [N, d] of the last block's output: the final
   * norm and the unembedding, per row, so the caller can take the head in chunks of rows.
   */
  public final NDArray headLogits(NDArray lastResidualRows) {
    return unembed(finalNorm(lastResidualRows));
  }

  /**
   * The capture a splice at {@code hook} needs besides the hook itself: the residual entering the
   * hook's block, when the hook is inside a block that is not the first (resid_mid, attn_out,
   * mlp_out, hook_z); see {@link #splicedLastResidual}.
   */
  public static java.util.OptionalInt spliceInput(HookPoint hook) {
    boolean inside =
        hook.site() != HookPoint.Site.RESID_POST && hook.site() != HookPoint.Site.RESID_PRE;
    return inside && hook.layer() > 0
        ? java.util.OptionalInt.of(hook.layer() - 1)
        : java.util.OptionalInt.empty();
  }

  /**
   * The last block's output [B, T, d] when the activation at {@code hook} is replaced by {@code
   * replacement} (any shape with the site's elements) at every position: SAELens's splice for the
   * CE-loss score. The pass resumes at the hook: after block L for resid_post, before block L for
   * resid_pre, and inside block L, from {@code captured}'s residual entering it (see {@link
   * #spliceInput}), for the other sites. Runs in groups of sequences on the CPU, as {@link
   * #forward}.
   */
  public final NDArray splicedLastResidual(
      NDArray ids, Activations captured, HookPoint hook, NDArray replacement) {
    NDArray input =
        spliceInput(hook).isPresent() ? captured.residPost(spliceInput(hook).getAsInt()) : null;
    return splicedLastResidual(ids, input, hook, replacement);
  }

  /**
   * {@link #splicedLastResidual(NDArray, Activations, HookPoint, NDArray)} with the residual
   * entering the hook's block given directly ([B, T, d]; null where {@link #spliceInput} is empty):
   * for splicing a subset of a batch's sequences.
   */
  public final NDArray splicedLastResidual(
      NDArray ids, NDArray blockInput, HookPoint hook, NDArray replacement) {
    NDManager batch = ids.getManager();
    long batchSize = ids.getShape().get(0);
    long seqLen = ids.getShape().get(1);
    long group = ids.getDevice().isGpu() ? batchSize : Math.max(1, GROUP_TOKENS / seqLen);
    NDArray full = replacement.reshape(batchSize, seqLen, -1);
    NDList parts = new NDList();
    for (long b = 0; b < batchSize; b += group) {
      NDIndex rows = new NDIndex("{}:{}", b, Math.min(batchSize, b + group));
      try (NDManager part = batch.newSubManager()) {
        NDArray groupIds = ids.get(rows);
        groupIds.attach(part);
        NDArray groupReplacement = full.get(rows);
        groupReplacement.attach(part);
        NDArray input = blockInput == null ? null : blockInput.get(rows);
        if (input != null) {
          input.attach(part);
        }
        NDArray out = splicedGroup(groupIds, input, hook, groupReplacement);
        out.attach(batch);
        parts.add(out);
      }
    }
    NDArray out = parts.size() == 1 ? parts.get(0) : Ops.concat(parts, 0);
    out.attach(batch);
    if (parts.size() > 1) {
      parts.forEach(NDArray::close);
    }
    return out;
  }

  private NDArray splicedGroup(NDArray ids, NDArray input, HookPoint hook, NDArray replacement) {
    NDManager batch = ids.getManager();
    int seqLen = Math.toIntExact(ids.getShape().get(1));
    Positions positions = new Positions(batch, seqLen, rope(batch, seqLen));
    int first;
    NDArray x;
    Taps taps;
    switch (hook.site()) {
      case RESID_POST -> {
        first = hook.layer() + 1;
        x = replacement.toType(dtype(), true);
        taps = Taps.none(batch);
      }
      case RESID_PRE -> {
        first = hook.layer();
        x = replacement.toType(dtype(), true);
        taps = Taps.none(batch);
      }
      default -> {
        first = hook.layer();
        x = hook.layer() == 0 ? embed(ids) : input.duplicate();
        taps = Taps.replacing(hook, replacement, batch);
      }
    }
    x.attach(batch);
    for (int layer = first; layer < config().numLayers(); layer++) {
      NDArray in = x;
      try (NDManager scratch = batch.newSubManager()) {
        in.tempAttach(scratch);
        taps.at(layer);
        x = block(layer, in, positions, taps);
        x.attach(batch);
      }
      in.close();
    }
    return x;
  }

  /**
   * Rows of logits computed at once when only the NLL is wanted: about {@link #NLL_CHUNK_BYTES} of
   * float32 logits, so no [B, T, V] array is ever made (8 x 512 x 50304 floats are 824 MB).
   */
  public static int rowsPerChunk(int vocabSize) {
    return (int) Math.max(1, NLL_CHUNK_BYTES / (4L * vocabSize));
  }

  /**
   * The NLL of every next token from the final-normed hidden state [B, T, d], unembedding {@code
   * rows} positions at a time, each chunk's logits freed before the next: the same values as {@link
   * #nextTokenNll} on the full logits, in float32, [B, T - 1].
   */
  final NDArray nextTokenNllChunked(NDArray normed, NDArray ids, int rows) {
    NDManager batch = ids.getManager();
    long b = normed.getShape().get(0);
    long t = normed.getShape().get(1);
    long d = normed.getShape().get(2);
    if (t < 2) {
      return batch.zeros(new Shape(b, 0), DataType.FLOAT32);
    }
    long n = b * (t - 1);
    try (NDManager scratch = batch.newSubManager()) {
      NDArray h = normed.get(new NDIndex(":, :{}, :", t - 1));
      h.attach(scratch);
      h = h.reshape(n, d);
      NDArray targets = ids.get(new NDIndex(":, 1:"));
      targets.attach(scratch);
      targets = targets.reshape(n, 1);
      NDList parts = new NDList();
      for (long start = 0; start < n; start += rows) {
        long end = Math.min(n, start + rows);
        try (NDManager chunk = scratch.newSubManager()) {
          NDArray hc = h.get(new NDIndex("{}:{}", start, end));
          hc.attach(chunk);
          NDArray tc = targets.get(new NDIndex("{}:{}", start, end));
          tc.attach(chunk);
          NDArray logits = unembed(hc);
          if (logits.getDataType() != DataType.FLOAT32) {
            logits = logits.toType(DataType.FLOAT32, false);
          }
          NDArray part = logits.logSoftmax(-1).gather(tc, 1).neg();
          part.attach(scratch);
          parts.add(part);
        }
      }
      NDArray nll = Ops.concat(parts, 0).reshape(b, t - 1);
      nll.attach(batch);
      return nll;
    }
  }

  /** {@code nll[b, t] = -log_softmax(logits[b, t])[ids[b, t + 1]]} in float32, [B, T - 1]. */
  static NDArray nextTokenNll(NDArray logits, NDArray ids) {
    long seqLen = logits.getShape().get(1);
    try (NDManager scratch = ids.getManager().newSubManager()) {
      NDArray l = logits.get(new NDIndex(":, :{}, :", seqLen - 1));
      l.attach(scratch);
      if (l.getDataType() != DataType.FLOAT32) {
        l = l.toType(DataType.FLOAT32, false);
      }
      NDArray targets = ids.get(new NDIndex(":, 1:")).expandDims(2);
      targets.attach(scratch);
      NDArray logProbs = l.logSoftmax(-1);
      NDArray nll = logProbs.gather(targets, 2).squeeze(2).neg();
      nll.attach(ids.getManager());
      return nll;
    }
  }
}
