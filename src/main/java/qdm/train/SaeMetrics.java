package qdm.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import qdm.io.HostTensor;
import qdm.model.TorchEngine;

/**
 * How well an SAE does on activation rows: mean L0 (features firing per token), fraction of
 * variance unexplained {@code sum ||x - x_hat||^2 / sum ||x - mean(x)||^2}, the fraction of
 * features that never fire, and the fraction the audit counts as active (firing on more than
 * {@value #ACTIVE_RATE} of tokens).
 */
public record SaeMetrics(
    long tokens, double l0, double fvu, double deadFraction, double activeFraction) {
  /** The audit's default firing-rate threshold for an active feature. */
  public static final double ACTIVE_RATE = 0.001;

  /** Evaluates {@code sae} on {@code acts} [n, d_in], {@code batch} rows at a time. */
  public static SaeMetrics evaluate(TrainedSae sae, HostTensor acts, int batch) {
    int n = (int) acts.dim(0);
    int d = (int) acts.dim(1);
    if (d != sae.dIn()) {
      throw new IllegalArgumentException(
          "activations have width " + d + ", the SAE d_in " + sae.dIn());
    }
    float[] x = acts.data();
    double[] mean = new double[d];
    for (int r = 0; r < n; r++) {
      for (int j = 0; j < d; j++) {
        mean[j] += x[r * d + j];
      }
    }
    double total = 0;
    for (int r = 0; r < n; r++) {
      for (int j = 0; j < d; j++) {
        double c = x[r * d + j] - mean[j] / n;
        total += c * c;
      }
    }
    double residual = 0;
    double active = 0;
    long[] fires = new long[sae.dSae()];
    try (NDManager root = TorchEngine.newManager(Device.cpu())) {
      TrainedSae.OnDevice w = sae.arrays(root);
      for (int first = 0; first < n; first += batch) {
        int rows = Math.min(batch, n - first);
        try (NDManager scratch = root.newSubManager()) {
          float[] chunk = Arrays.copyOfRange(x, first * d, (first + rows) * d);
          NDArray in = scratch.create(chunk, new Shape(rows, d));
          NDArray f = sae.encode(in, w);
          NDArray recon = f.matMul(w.wDec()).add(w.bDec());
          residual += recon.sub(in).square().sum().getFloat();
          NDArray on = f.gt(0f).toType(DataType.FLOAT32, false);
          active += on.sum().getFloat();
          float[] perFeature = on.sum(new int[] {0}).toFloatArray();
          for (int i = 0; i < fires.length; i++) {
            fires[i] += (long) perFeature[i];
          }
        }
      }
    }
    int dead = 0;
    int live = 0;
    for (long c : fires) {
      dead += c == 0 ? 1 : 0;
      live += c > ACTIVE_RATE * n ? 1 : 0;
    }
    return new SaeMetrics(
        n,
        active / n,
        residual / total,
        (double) dead / fires.length,
        (double) live / fires.length);
  }
}
