package qdm.drift;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import qdm.compress.Compressed;
import qdm.compress.Compression;
import qdm.compress.WeightOutliers;
import qdm.condition.Condition;
import qdm.condition.ConditionWeights;
import qdm.condition.ReferenceModel;
import qdm.measure.TokenMetrics;
import qdm.model.Activations;
import qdm.model.Capture;
import qdm.model.Model;
import qdm.model.Transformer;
import qdm.perplexity.NllTotal;
import qdm.sae.Sae;

/**
 * A quick look, on one machine, at how far each condition of an audit moves the model before the
 * audit's features are measured: the relative change of the weights, of the residual stream at the
 * SAE's hook and of the SAE's codes, and the perplexity, over a small sample of the audit's
 * windows; plus how outlier-heavy the weights are ({@link WeightOutliers}), which is what decides
 * how coarse per-row RTN is.
 *
 * <p>It answers "why does my audit look like this" (a model whose features all survive 4-bit RTN
 * has weights without outliers and a residual that moves a few percent) and "which conditions are
 * worth a cluster run", in seconds. The full-precision residual and codes of the sample are kept on
 * the host between conditions, so each condition is one forward pass over the sample.
 */
public final class DriftProbe {
  private DriftProbe() {}

  /**
   * Measures every condition with a fixed compression; the reference and conditions whose
   * compression is only known after a search (matched pruning) are skipped with a reason.
   *
   * @param windows token windows of one length
   * @param batchSize windows per forward pass
   * @param progress receives one line per finished condition
   */
  public static DriftReport run(
      ReferenceModel ref,
      Sae sae,
      List<int[]> windows,
      List<Condition> conditions,
      int batchSize,
      Consumer<String> progress) {
    Model model = ref.model();
    if (windows.isEmpty()) {
      throw new IllegalArgumentException("no windows to measure");
    }
    qdm.model.HookPoint layer = sae.hook();
    List<WeightOutliers> outliers = WeightOutliers.of(model.weights(), Compression.DEFAULT_TARGETS);
    List<List<int[]>> batches = batches(windows, batchSize);
    List<Pass> reference = new ArrayList<>();
    NllTotal fpNll = new NllTotal();
    for (List<int[]> batch : batches) {
      reference.add(pass(model, model.transformer(), sae, layer, batch, fpNll));
    }
    List<ConditionDrift> drifts = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    for (Condition c : conditions) {
      if (c.isReference()) {
        continue;
      }
      if (c.isSearched()) {
        skipped.add(c.name() + " (its sparsity is searched by the audit's encode stage)");
        continue;
      }
      try (Compressed compressed = ConditionWeights.measured(c, ref)) {
        Transformer t = model.withWeights(compressed.weights());
        NllTotal nll = new NllTotal();
        Change residual = new Change();
        Change codes = new Change();
        double[] behaviour = new double[3]; // Σ KL, positions with the same top-1, positions
        for (int i = 0; i < batches.size(); i++) {
          Pass p = pass(model, t, sae, layer, batches.get(i), nll);
          residual.add(reference.get(i).residual, p.residual);
          codes.add(reference.get(i).codes, p.codes);
          behaviour(model, t, batches.get(i), behaviour);
        }
        ConditionDrift d =
            new ConditionDrift(
                c.name(),
                c.files().isPresent() ? c.method() : c.spec(),
                compressed.report().relativeError(),
                residual.relative(),
                codes.relative(),
                nll.perplexity(),
                behaviour[0] / behaviour[2],
                100 * behaviour[1] / behaviour[2]);
        drifts.add(d);
        progress.accept(
            String.format(
                java.util.Locale.ROOT,
                "%s: residual %.2f%%, codes %.2f%%",
                c.name(),
                100 * d.residualChange(),
                100 * d.codeChange()));
        // the audit reports these per condition too (conditions.kl_mean, top1_same_pct)
      }
    }
    long tokens = windows.stream().mapToLong(w -> w.length).sum();
    return new DriftReport(
        sae.hook().toString(),
        windows.size(),
        tokens,
        fpNll.perplexity(),
        outliers,
        drifts,
        skipped);
  }

  /** The residual at the hook and the SAE's dense codes of one batch, on the host, in float32. */
  private record Pass(float[] residual, float[] codes) {}

  private static Pass pass(
      Model model,
      Transformer t,
      Sae sae,
      qdm.model.HookPoint layer,
      List<int[]> batch,
      NllTotal nll) {
    int length = batch.get(0).length;
    long[] ids = new long[batch.size() * length];
    for (int b = 0; b < batch.size(); b++) {
      if (batch.get(b).length != length) {
        throw new IllegalArgumentException(
            "windows of different lengths: " + length + " and " + batch.get(b).length);
      }
      for (int i = 0; i < length; i++) {
        ids[b * length + i] = batch.get(b)[i];
      }
    }
    try (NDManager m = model.weights().manager().newSubManager()) {
      NDArray tokens = m.create(ids, new Shape(batch.size(), length));
      Activations a = t.forward(tokens, Capture.atAndNll(layer));
      NDArray nlls = a.nll().orElseThrow();
      nll.addBatch(nlls.toType(DataType.FLOAT64, false).sum().getDouble(), nlls.size());
      NDArray residual = a.at(layer).toType(DataType.FLOAT32, false);
      return new Pass(residual.toFloatArray(), sae.encode(residual).toFloatArray());
    }
  }

  /**
   * Adds one batch's Σ KL, same-top-1 count and positions (into {@code into}), comparing the
   * condition's next-token distribution with the reference's as the audit does ({@link
   * TokenMetrics}); the reference's logits are computed again here rather than kept for the whole
   * sample.
   */
  private static void behaviour(Model model, Transformer t, List<int[]> batch, double[] into) {
    int length = batch.get(0).length;
    long[] ids = new long[batch.size() * length];
    for (int b = 0; b < batch.size(); b++) {
      for (int i = 0; i < length; i++) {
        ids[b * length + i] = batch.get(b)[i];
      }
    }
    int layers = model.config().numLayers();
    int scored = batch.size() * (length - 1);
    int rows = Transformer.rowsPerChunk(model.config().vocabSize());
    try (NDManager m = model.weights().manager().newSubManager()) {
      NDArray tokens = m.create(ids, new Shape(batch.size(), length));
      NDArray targets = tokens.get(":, 1:").reshape(-1, 1);
      NDArray[] last = new NDArray[2];
      Transformer[] models = {model.transformer(), t};
      for (int k = 0; k < 2; k++) {
        last[k] =
            models[k]
                .forward(tokens, Capture.residualAt(layers - 1))
                .residPost(layers - 1)
                .get(":, :-1, :")
                .reshape(scored, -1);
      }
      for (int from = 0; from < scored; from += rows) {
        int to = Math.min(scored, from + rows);
        try (NDManager part = m.newSubManager()) {
          String range = from + ":" + to;
          NDArray y = targets.get(range);
          y.attach(part);
          NDArray[] logits = new NDArray[2];
          for (int k = 0; k < 2; k++) {
            NDArray h = last[k].get(range);
            h.attach(part);
            logits[k] = models[k].headLogits(h).toType(DataType.FLOAT32, false);
          }
          TokenMetrics.Values v =
              TokenMetrics.compare(TokenMetrics.Reference.of(logits[0], y), logits[1], y);
          for (int i = 0; i < v.kl().length; i++) {
            into[0] += v.kl()[i];
            into[1] += v.top1Same()[i] ? 1 : 0;
          }
          into[2] += v.kl().length;
        }
      }
    }
  }

  private static List<List<int[]>> batches(List<int[]> windows, int size) {
    if (size < 1) {
      throw new IllegalArgumentException("batch size must be positive, got " + size);
    }
    List<List<int[]>> out = new ArrayList<>();
    for (int i = 0; i < windows.size(); i += size) {
      out.add(windows.subList(i, Math.min(windows.size(), i + size)));
    }
    return out;
  }

  /** Accumulates ||y - x||^2 and ||x||^2 in float64. */
  private static final class Change {
    double squaredDiff;
    double squaredNorm;

    void add(float[] x, float[] y) {
      for (int i = 0; i < x.length; i++) {
        double d = (double) y[i] - x[i];
        squaredDiff += d * d;
        squaredNorm += (double) x[i] * x[i];
      }
    }

    double relative() {
      return squaredNorm == 0 ? 0 : Math.sqrt(squaredDiff / squaredNorm);
    }
  }
}
