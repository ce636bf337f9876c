package qdm.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import qdm.QdmException;
import qdm.condition.Condition;
import qdm.measure.ConditionSums;
import qdm.measure.FeatureSums;
import qdm.measure.FidelitySums;
import qdm.measure.PassAccumulator;
import qdm.measure.PassSums;
import qdm.measure.TokenMetrics;
import qdm.measure.WindowSums;
import qdm.model.Activations;
import qdm.model.Capture;
import qdm.model.HookPoint;
import qdm.model.Placement;
import qdm.model.TorchEngine;
import qdm.model.Transformer;
import qdm.sae.Sae;
import qdm.sae.SparseCodes;
import qdm.tables.Schemas;

/**
 * The executor side of the audit's one pass over the chunk windows: a task takes batches of windows
 * and runs the reference and then every condition over each batch, so the reference's logits and
 * SAE codes are at hand when a condition runs.
 *
 * <p>Per batch and condition: the forward pass (kept: the hook's activations and the last block's
 * output), the SAE's codes and reconstruction of the condition's own activations, the head in
 * chunks of rows compared with the reference's logits ({@link TokenMetrics}: KL, Δp, top-1, NLL),
 * the CE-loss splices, and the per-feature statistics against the reference's codes ({@link
 * FeatureSums}). Per-token rows come out (they become {@code codes} and {@code token_nll}); the
 * statistics are summed per task and handed to Spark through a {@link PassAccumulator}.
 *
 * <p>Memory per task: the reference's float32 logits of one batch ([B (T - 1), V]) and one
 * condition's activations at a time; nothing grows with the number of tokens.
 */
public final class AuditPass implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;

  /** One row per condition and token position of the chunk windows (staging). */
  public static final StructType ROWS =
      new StructType(
          new StructField[] {
            Schemas.field("sae", DataTypes.StringType),
            Schemas.field("condition", DataTypes.StringType),
            Schemas.field("window_id", DataTypes.LongType),
            Schemas.field("position", DataTypes.IntegerType),
            Schemas.field("token_id", DataTypes.IntegerType),
            Schemas.nullable("nll", DataTypes.DoubleType),
            Schemas.nullable("kl", DataTypes.DoubleType),
            Schemas.nullable("delta_p", DataTypes.DoubleType),
            Schemas.nullable("top1_same", DataTypes.BooleanType),
            Schemas.field("features", DataTypes.createArrayType(DataTypes.IntegerType, false)),
            Schemas.field("activations", DataTypes.createArrayType(DataTypes.FloatType, false)),
            // a window row (position -1): the window's WindowSums over the features listed
            Schemas.nullable("window_stats", DataTypes.createArrayType(DataTypes.LongType, false)),
            Schemas.nullable(
                "window_min_max", DataTypes.createArrayType(DataTypes.DoubleType, false))
          });

  private static final org.apache.logging.log4j.Logger LOG =
      org.apache.logging.log4j.LogManager.getLogger(AuditPass.class);

  private final PassSpec spec;
  private final LongAccumulator tokensDone;

  /**
   * Seconds per phase of this task (forward, SAE, head, splices, sums), for the task's log line.
   */
  private final long[] phaseNanos = new long[5];

  private final PassAccumulator sums;

  public AuditPass(PassSpec spec, LongAccumulator tokensDone, PassAccumulator sums) {
    this.spec = spec;
    this.tokensDone = tokensDone;
    this.sums = sums;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> windows) {
    TaskContext task = TaskContext.get();
    EncodeSpec base = spec.base();
    if (Boolean.getBoolean(EncodeFunction.FAIL_ONCE)
        && task != null
        && task.partitionId() == 0
        && task.attemptNumber() == 0) {
      throw new IllegalStateException(
          "injected failure of the first attempt (" + EncodeFunction.FAIL_ONCE + ")");
    }
    TorchEngine.engine(); // loads libtorch before any JNI call
    int threads = base.threads() > 0 ? base.threads() : task != null ? task.cpus() : 0;
    if (threads > 0 && JniUtils.getNumThreads() != threads) {
      JniUtils.setNumThreads(threads);
    }
    Placement placement =
        PlacementPolicy.forCurrentTask(base.device(), base.dtype(), base.localMaster());
    ExecutorCache.Loaded loaded = ExecutorCache.get(base, placement);
    PassSums local = new PassSums();
    java.util.Arrays.fill(phaseNanos, 0);
    List<Row> out = new ArrayList<>();
    List<Row> batch = new ArrayList<>();
    while (windows.hasNext()) {
      Row w = windows.next();
      if (!batch.isEmpty()
          && (batch.size() == base.batchSize()
              || EncodeFunction.tokens(batch.get(0)).length != EncodeFunction.tokens(w).length)) {
        new Batch(loaded, batch, local, out).run();
        batch.clear();
      }
      batch.add(w);
    }
    if (!batch.isEmpty()) {
      new Batch(loaded, batch, local, out).run();
    }
    sums.add(local);
    LOG.info(
        String.format(
            java.util.Locale.ROOT,
            "task %d: forward %.1f s, SAE and fidelity %.1f s, head and token metrics %.1f s,"
                + " CE-loss splices %.1f s, feature sums and rows %.1f s",
            task == null ? -1 : task.partitionId(),
            phaseNanos[0] / 1e9,
            phaseNanos[1] / 1e9,
            phaseNanos[2] / 1e9,
            phaseNanos[3] / 1e9,
            phaseNanos[4] / 1e9));
    return out.iterator();
  }

  /** One batch of windows through the reference and every condition. */
  private final class Batch {
    private final ExecutorCache.Loaded loaded;
    private final List<Row> windows;
    private final PassSums sums;
    private final List<Row> out;
    private final java.util.Map<String, Sae> saes;
    private final int length;
    private final long[] ids;
    private final List<TokenMetrics.Reference> reference = new ArrayList<>();
    private final java.util.Map<String, SparseCodes> referenceCodes = new java.util.HashMap<>();

    Batch(ExecutorCache.Loaded loaded, List<Row> windows, PassSums sums, List<Row> out) {
      this.loaded = loaded;
      this.windows = windows;
      this.sums = sums;
      this.out = out;
      this.saes = loaded.saes();
      this.length = EncodeFunction.tokens(windows.get(0)).length;
      this.ids = new long[windows.size() * length];
      for (int b = 0; b < windows.size(); b++) {
        int[] t = EncodeFunction.tokens(windows.get(b));
        for (int i = 0; i < length; i++) {
          ids[b * length + i] = t[i];
        }
      }
    }

    void run() {
      try (NDManager batch = loaded.manager().newSubManager()) {
        NDArray tokens = batch.create(ids, new Shape(windows.size(), length));
        NDArray targets = tokens.get(new NDIndex(":, 1:")).reshape(-1, 1);
        for (Condition c : spec.conditions()) {
          try (ExecutorCache.Lease lease = loaded.lease(c);
              NDManager scratch = batch.newSubManager()) {
            NDArray condTokens = tokens.duplicate();
            condTokens.attach(scratch);
            NDArray condTargets = targets.duplicate();
            condTargets.attach(scratch);
            run(c, lease.transformer(), condTokens, condTargets, batch);
          }
        }
      }
      tokensDone.add((long) windows.size() * length);
    }

    private void run(
        Condition c, Transformer model, NDArray tokens, NDArray targets, NDManager batchManager) {
      // one forward pass keeps what every SAE reads (its hook, the residual its splice resumes
      // from) and the last block's output for the head
      int layers = model.config().numLayers();
      Set<Integer> residuals = new TreeSet<>(Set.of(layers - 1));
      Set<HookPoint> sites = new java.util.HashSet<>();
      for (Sae sae : saes.values()) {
        Transformer.spliceInput(sae.hook()).ifPresent(residuals::add);
        Capture at = Capture.at(sae.hook());
        residuals.addAll(at.residuals());
        sites.addAll(at.sites());
      }
      long t0 = System.nanoTime();
      Activations acts = model.forward(tokens, new Capture(residuals, false, false, false, sites));
      long t1 = System.nanoTime();
      int scored = windows.size() * (length - 1);
      NDArray last =
          acts.residPost(layers - 1)
              .get(new NDIndex(":, :{}, :", length - 1))
              .reshape(scored, model.config().hiddenSize());
      double[] nll = new double[scored];
      double[] kl = new double[scored];
      double[] deltaP = new double[scored];
      boolean[] top1 = new boolean[scored];
      int rows = Transformer.rowsPerChunk(model.config().vocabSize());
      for (int from = 0, chunk = 0; from < scored; from += rows, chunk++) {
        int to = Math.min(scored, from + rows);
        try (NDManager part = batchManager.newSubManager()) {
          NDArray h = last.get(new NDIndex("{}:{}", from, to));
          h.attach(part); // the chunk's intermediates follow it and go when the chunk ends
          NDArray logits = model.headLogits(h);
          if (logits.getDataType() != DataType.FLOAT32) {
            logits = logits.toType(DataType.FLOAT32, false);
          }
          NDArray y = targets.get(new NDIndex("{}:{}", from, to));
          y.attach(part);
          if (c == spec.conditions().get(0)) {
            TokenMetrics.Reference r = TokenMetrics.Reference.of(logits, y);
            r.probs().attach(batchManager);
            reference.add(r);
          }
          TokenMetrics.Values v = TokenMetrics.compare(reference.get(chunk), logits, y);
          checkFinite(c, v.firstNonFinite(), from);
          System.arraycopy(v.nll(), 0, nll, from, to - from);
          System.arraycopy(v.kl(), 0, kl, from, to - from);
          System.arraycopy(v.deltaP(), 0, deltaP, from, to - from);
          System.arraycopy(v.top1Same(), 0, top1, from, to - from);
        }
      }
      long t2 = System.nanoTime();
      phaseNanos[0] += t1 - t0;
      phaseNanos[2] += t2 - t1;
      boolean first = true;
      for (java.util.Map.Entry<String, Sae> e : saes.entrySet()) {
        SparseCodes codes =
            encode(c, e.getKey(), e.getValue(), model, tokens, targets, acts, rows, nll);
        long t3 = System.nanoTime();
        if (first) {
          emit(e.getKey(), c.name(), codes, nll, kl, deltaP, top1);
        } else {
          emit(e.getKey(), c.name(), codes, null, null, null, null);
        }
        phaseNanos[4] += System.nanoTime() - t3;
        first = false;
      }
    }

    /**
     * One SAE on one condition's activations: codes, reconstruction sums, the CE-loss splices and
     * the feature sums against the reference's codes; its code rows (token metrics only on the
     * first SAE's rows, see {@link #run}).
     */
    private SparseCodes encode(
        Condition c,
        String name,
        Sae sae,
        Transformer model,
        NDArray tokens,
        NDArray targets,
        Activations acts,
        int rows,
        double[] nll) {
      HookPoint hook = sae.hook();
      long t0 = System.nanoTime();
      Sae.Output enc = sae.encodeAndReconstruct(acts.at(hook));
      ConditionSums condSums =
          sums.of(
              name,
              c.name(),
              () ->
                  new ConditionSums(
                      new FeatureSums(sae.config().dSae()),
                      new FidelitySums(sae.config().dIn(), splices(sae))));
      reconstruction(enc, condSums.fidelity());
      long t1 = System.nanoTime();
      int[] spliced = splicedWindows(sae);
      if (spliced.length > 0) {
        int per = length - 1;
        double[][] ce =
            splicedNll(model, hook, tokens, acts, enc.reconstruction(), targets, spliced, rows);
        double[] clean = new double[spliced.length * per];
        for (int i = 0; i < spliced.length; i++) {
          System.arraycopy(nll, spliced[i] * per, clean, i * per, per);
        }
        condSums.fidelity().addNll(clean, ce[0], ce[1]);
      }
      long t2 = System.nanoTime();
      referenceCodes.putIfAbsent(name, enc.codes());
      condSums.features().add(referenceCodes.get(name), enc.codes());
      for (WindowSums.Window w : WindowSums.of(referenceCodes.get(name), enc.codes(), length)) {
        out.add(
            RowFactory.create(
                name,
                c.name(),
                windows.get(w.index()).getLong(0),
                -1,
                -1,
                null,
                null,
                null,
                null,
                w.feature(),
                new float[0],
                w.stats(),
                w.minMax()));
      }
      long t3 = System.nanoTime();
      phaseNanos[1] += t1 - t0;
      phaseNanos[3] += t2 - t1;
      phaseNanos[4] += t3 - t2;
      return enc.codes();
    }

    /** Fails naming the condition, window and position of the first non-finite logit row. */
    private void checkFinite(Condition c, int bad, int from) {
      if (bad >= 0) {
        int row = from + bad;
        throw new QdmException(
            "condition '"
                + c.name()
                + "': its logits hold NaN or infinity at window "
                + windows.get(row / (length - 1)).getLong(0)
                + ", position "
                + row % (length - 1)
                + " (the prediction of the token at position "
                + (row % (length - 1) + 1)
                + "); its weights or their computation are broken");
      }
    }

    /** Whether the CE-loss splices are defined: not for an SAE on one head of hook_z. */
    private boolean splices(Sae sae) {
      return sae.config().input().headIndex().isEmpty();
    }

    /**
     * The windows of this batch (indices into it) the CE-loss splices run on: those whose id is a
     * multiple of {@link PassSpec#ceLossEvery()}, so a subset is spread over every task; none where
     * splicing is not defined.
     */
    private int[] splicedWindows(Sae sae) {
      if (!splices(sae)) {
        return new int[0];
      }
      return java.util.stream.IntStream.range(0, windows.size())
          .filter(i -> windows.get(i).getLong(0) % spec.ceLossEvery() == 0)
          .toArray();
    }

    private void reconstruction(Sae.Output enc, FidelitySums fidelity) {
      NDArray x = enc.input().toType(DataType.FLOAT64, false);
      NDArray xHat = enc.reconstruction().toType(DataType.FLOAT64, false);
      double[] squaredErrors = x.sub(xHat).square().sum(new int[] {-1}).toDoubleArray();
      NDArray dot = x.mul(xHat).sum(new int[] {-1});
      NDArray norms =
          x.square().sum(new int[] {-1}).mul(xHat.square().sum(new int[] {-1})).maximum(1e-16);
      double[] cosines = dot.div(norms.sqrt()).toDoubleArray();
      fidelity.addReconstruction(
          enc.input().toFloatArray(), squaredErrors, cosines, enc.codes().size());
    }

    /**
     * The NLL of every scored position of the windows {@code chosen} (indices into the batch) with
     * the SAE's reconstruction, then zeros, spliced in at the hook: {nll with x̂, nll with 0}.
     */
    private double[][] splicedNll(
        Transformer model,
        HookPoint hook,
        NDArray tokens,
        Activations acts,
        NDArray reconstruction,
        NDArray targets,
        int[] chosen,
        int rows) {
      try (NDManager scratch = tokens.getManager().newSubManager()) {
        boolean all = chosen.length == windows.size();
        NDArray index = scratch.create(java.util.Arrays.stream(chosen).asLongStream().toArray());
        java.util.function.UnaryOperator<NDArray> pick =
            a -> {
              NDArray out = all ? a.duplicate() : a.get(new NDIndex("{}", index));
              out.attach(scratch);
              return out;
            };
        NDArray t = pick.apply(tokens);
        NDArray xHat = pick.apply(reconstruction.reshape(windows.size(), length, -1));
        NDArray input =
            Transformer.spliceInput(hook).isPresent()
                ? pick.apply(acts.residPost(Transformer.spliceInput(hook).getAsInt()))
                : null;
        NDArray y = pick.apply(targets.reshape(windows.size(), length - 1)).reshape(-1, 1);
        double[][] out = new double[2][];
        out[0] =
            headNll(
                model,
                model.splicedLastResidual(t, input, hook, xHat),
                y,
                chosen.length,
                rows,
                scratch);
        if (hook.site() == HookPoint.Site.RESID_PRE
            || hook.site() == HookPoint.Site.RESID_MID
            || hook.site() == HookPoint.Site.RESID_POST) {
          // Zeros in place of the whole residual stream leave nothing that depends on the
          // input or the position: norms, MLPs and attention (whose values are then all equal,
          // whatever its rotary or causal weights) give every position the same vector, so
          // one position's logits are every position's.
          NDIndex one = new NDIndex(":1, :1");
          NDArray oneInput = input == null ? null : input.get(one);
          NDArray last =
              model.splicedLastResidual(t.get(one), oneInput, hook, xHat.get(one).zerosLike());
          NDArray logits = model.headLogits(last.reshape(1, model.config().hiddenSize()));
          if (logits.getDataType() != DataType.FLOAT32) {
            logits = logits.toType(DataType.FLOAT32, false);
          }
          out[1] = TokenMetrics.nllOfRow(logits, y.toLongArray());
        } else {
          out[1] =
              headNll(
                  model,
                  model.splicedLastResidual(t, input, hook, xHat.zerosLike()),
                  y,
                  chosen.length,
                  rows,
                  scratch);
        }
        return out;
      }
    }

    /** The NLL of the scored positions of last-block outputs [n, T, d], in chunks of rows. */
    private double[] headNll(
        Transformer model, NDArray lastResidual, NDArray targets, int n, int rows, NDManager m) {
      int scored = n * (length - 1);
      NDArray last =
          lastResidual
              .get(new NDIndex(":, :{}, :", length - 1))
              .reshape(scored, model.config().hiddenSize());
      double[] nll = new double[scored];
      for (int from = 0; from < scored; from += rows) {
        int to = Math.min(scored, from + rows);
        try (NDManager part = m.newSubManager()) {
          NDArray h = last.get(new NDIndex("{}:{}", from, to));
          h.attach(part); // the chunk's intermediates follow it and go when the chunk ends
          NDArray y = targets.get(new NDIndex("{}:{}", from, to));
          y.attach(part);
          NDArray logits = model.headLogits(h);
          if (logits.getDataType() != DataType.FLOAT32) {
            logits = logits.toType(DataType.FLOAT32, false);
          }
          System.arraycopy(TokenMetrics.nll(logits, y), 0, nll, from, to - from);
        }
      }
      return nll;
    }

    private void emit(
        String sae,
        String condition,
        SparseCodes codes,
        double[] nll,
        double[] kl,
        double[] deltaP,
        boolean[] top1) {
      int[] token = codes.token();
      int[] feature = codes.feature();
      float[] activation = codes.activation();
      int at = 0; // entries are sorted by token, then feature
      for (int b = 0; b < windows.size(); b++) {
        long windowId = windows.get(b).getLong(0);
        for (int p = 0; p < length; p++) {
          int row = b * length + p;
          int from = at;
          while (at < token.length && token[at] == row) {
            at++;
          }
          boolean scored = p < length - 1 && nll != null;
          int s = b * (length - 1) + p;
          out.add(
              RowFactory.create(
                  sae,
                  condition,
                  windowId,
                  p,
                  (int) ids[row],
                  scored ? nll[s] : null,
                  scored ? kl[s] : null,
                  scored ? deltaP[s] : null,
                  scored ? top1[s] : null,
                  Arrays.copyOfRange(feature, from, at),
                  Arrays.copyOfRange(activation, from, at),
                  null,
                  null));
        }
      }
    }
  }
}
