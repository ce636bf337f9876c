package qdm.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import qdm.model.Activations;
import qdm.model.Capture;
import qdm.model.Placement;
import qdm.model.TorchEngine;
import qdm.tables.Schemas;

/**
 * The NLL-only passes of one condition: sliding windows, and the matched search's probes over chunk
 * windows (the audit's main pass over chunk windows is {@link AuditPass}). One row per scored
 * position with its NLL; the logits are reduced to NLL in chunks of rows and dropped.
 *
 * <p>The model, SAE and condition weights come from {@link ExecutorCache}; a task never loads
 * anything a previous task of the same executor loaded.
 */
public final class EncodeFunction implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;

  /** Scored positions of sliding windows. */
  public static final StructType SLIDE_NLL =
      new StructType(
          new StructField[] {
            Schemas.field("window_id", DataTypes.LongType),
            Schemas.field("position", DataTypes.IntegerType),
            Schemas.field("nll", DataTypes.DoubleType)
          });

  /** Fault injection for the retry test: fail the first attempt of partition 0 when set. */
  static final String FAIL_ONCE = "qdm.test.fail-first-attempt";

  private final EncodeSpec spec;
  private final LongAccumulator tokensDone;

  public EncodeFunction(EncodeSpec spec, LongAccumulator tokensDone) {
    this.spec = spec;
    this.tokensDone = tokensDone;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> windows) {
    TaskContext task = TaskContext.get();
    if (Boolean.getBoolean(FAIL_ONCE)
        && task != null
        && task.partitionId() == 0
        && task.attemptNumber() == 0) {
      throw new IllegalStateException("injected failure of the first attempt (" + FAIL_ONCE + ")");
    }
    TorchEngine.engine(); // loads libtorch before any JNI call
    // libtorch threads: as configured, else the CPUs Spark gives each task (spark.task.cpus)
    int threads = spec.threads() > 0 ? spec.threads() : task != null ? task.cpus() : 0;
    if (threads > 0 && JniUtils.getNumThreads() != threads) {
      JniUtils.setNumThreads(threads);
    }
    Placement placement =
        PlacementPolicy.forCurrentTask(spec.device(), spec.dtype(), spec.localMaster());
    ExecutorCache.Loaded loaded = ExecutorCache.get(spec, placement);
    List<Row> out = new ArrayList<>();
    try (ExecutorCache.Lease lease = loaded.lease(spec.condition())) {
      List<Row> batch = new ArrayList<>();
      while (windows.hasNext()) {
        Row w = windows.next();
        if (!batch.isEmpty()
            && (batch.size() == spec.batchSize()
                || tokens(batch.get(0)).length != tokens(w).length)) {
          run(loaded, lease, batch, out);
          batch.clear();
        }
        batch.add(w);
      }
      if (!batch.isEmpty()) {
        run(loaded, lease, batch, out);
      }
    }
    return out.iterator();
  }

  private void run(
      ExecutorCache.Loaded loaded, ExecutorCache.Lease lease, List<Row> batch, List<Row> out) {
    int length = tokens(batch.get(0)).length;
    long[] ids = new long[batch.size() * length];
    for (int b = 0; b < batch.size(); b++) {
      int[] t = tokens(batch.get(b));
      for (int i = 0; i < length; i++) {
        ids[b * length + i] = t[i];
      }
    }
    try (NDManager scratch = lease.transformer().weights().manager().newSubManager()) {
      NDArray tokens = scratch.create(ids, new Shape(batch.size(), length));
      Activations acts = lease.transformer().forward(tokens, Capture.nllOnly());
      emitNll(batch, length, acts.nll().orElseThrow().toFloatArray(), out);
    }
    tokensDone.add((long) batch.size() * length);
  }

  private static void emitNll(List<Row> batch, int length, float[] nll, List<Row> out) {
    for (int b = 0; b < batch.size(); b++) {
      Row w = batch.get(b);
      int firstScored = Math.max(w.getInt(4), 1) - 1;
      for (int p = firstScored; p < length - 1; p++) {
        out.add(RowFactory.create(w.getLong(0), p, (double) nll[b * (length - 1) + p]));
      }
    }
  }

  /** The token ids of a {@link Schemas#WINDOWS} row. */
  static int[] tokens(Row window) {
    List<Integer> list = window.getList(3);
    int[] out = new int[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = list.get(i);
    }
    return out;
  }
}
