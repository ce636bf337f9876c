package qdm.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import qdm.io.HostTensor;
import qdm.model.Ops;
import qdm.model.TorchEngine;

/**
 * Trains a sparse autoencoder on activation rows with DJL autograd.
 *
 * <p>Recipe (the common one for residual-stream SAEs): inputs rescaled by one constant so their
 * mean squared norm is {@code d_in} (the scale is folded back into the weights at the end, so the
 * result acts on raw activations and needs no normalisation); decoder rows kept at unit norm after
 * every step; encoder initialised as a tenth of the decoder's transpose, {@code b_dec} as the mean
 * input; loss {@code sum_d (x - x_hat)^2 + l1 * sum_i f_i} (standard) or the reconstruction alone
 * (topk); Adam with warm-up and cosine decay; the L1 coefficient warmed up linearly. Features that
 * stop firing are re-initialised in the first half of training, each towards the reconstruction
 * error of an input drawn in proportion to that error.
 *
 * <p>Deterministic for a seed and thread count: initial weights and batch order come from Java
 * generators.
 */
public final class SaeTrainer {
  static final String W_ENC = "W_enc";
  static final String B_ENC = "b_enc";
  static final String W_DEC = "W_dec";
  static final String B_DEC = "b_dec";

  /** Initial encoder scale relative to the decoder's transpose. */
  static final float ENCODER_INIT = 0.1f;

  private SaeTrainer() {}

  /** Trains on {@code acts} [n, d_in] and returns the SAE for raw activations. */
  public static TrainedSae train(HostTensor acts, SaeOptions o, PrintStream log) {
    int n = (int) acts.dim(0);
    int d = (int) acts.dim(1);
    int m = o.dSae();
    float[] x = acts.data();
    float scale = inputScale(x, n, d);
    Random random = new Random(o.seed());
    Map<String, HostTensor> init = initial(x, n, d, m, scale, random);

    Schedule lr = new Schedule(o.lr(), o.warmup(), o.steps(), 0.0);
    Optimizer adam = Optimizer.adam().optLearningRateTracker(lr).build();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    int cursor = n; // forces a shuffle before the first batch
    long[] firesSinceResample = new long[m];
    long[] firesSinceLog = new long[m];
    double mseSum = 0;
    double l0Sum = 0;
    double varSum = 0;
    int logged = 0;
    long start = System.nanoTime();
    float[] batch = new float[o.batch() * d];
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Parameters params = Parameters.of(root, init)) {
      NDArray wEnc = params.get(W_ENC);
      NDArray bEnc = params.get(B_ENC);
      NDArray wDec = params.get(W_DEC);
      NDArray bDec = params.get(B_DEC);
      float[] lastErrors = new float[o.batch()];
      float[] errorRows = null;
      for (int step = 1; step <= o.steps(); step++) {
        boolean resample =
            o.resampleEvery() > 0 && step % o.resampleEvery() == 0 && step <= o.steps() / 2;
        for (int b = 0; b < o.batch(); b++) {
          if (cursor == n) {
            shuffle(order, random);
            cursor = 0;
          }
          int row = order[cursor++];
          for (int j = 0; j < d; j++) {
            batch[b * d + j] = x[row * d + j] * scale;
          }
        }
        double l1 =
            o.topk() ? 0 : o.l1() * Math.min(1.0, (double) step / Math.max(1, o.l1Warmup()));
        try (NDManager scratch = root.newSubManager()) {
          NDArray in = scratch.create(batch, new Shape(o.batch(), d));
          try (GradientCollector collector = TorchEngine.engine().newGradientCollector()) {
            NDArray pre = in.sub(bDec).matMul(wEnc).add(bEnc);
            NDArray f = TrainedSae.activate(pre, o.architecture(), o.k());
            NDArray error = f.matMul(wDec).add(bDec).sub(in);
            NDArray perRow = error.square().sum(new int[] {1});
            NDArray loss = perRow.mean();
            if (l1 > 0) {
              NDArray rowL1 = f.sum(new int[] {1}).mean();
              loss = loss.add(rowL1.mul(Ops.scalar(rowL1, (float) l1)));
            }
            collector.backward(loss);
            float value = loss.getFloat();
            if (!Float.isFinite(value)) {
              throw new IllegalStateException(
                  "the SAE loss is " + value + " at step " + step + "; lower --lr");
            }
            float[] errors = perRow.toFloatArray();
            if (resample) {
              errorRows = error.toFloatArray();
            }
            System.arraycopy(errors, 0, lastErrors, 0, errors.length);
            NDArray active = f.gt(0f).toType(DataType.FLOAT32, false);
            float[] fires = active.sum(new int[] {0}).toFloatArray();
            for (int i = 0; i < m; i++) {
              firesSinceResample[i] += (long) fires[i];
              firesSinceLog[i] += (long) fires[i];
            }
            double rowsMse = 0;
            for (float e : errors) {
              rowsMse += e;
            }
            mseSum += rowsMse / o.batch();
            l0Sum += active.sum().getFloat() / o.batch();
            varSum +=
                in.sub(in.mean(new int[] {0}, true)).square().sum(new int[] {1}).mean().getFloat();
            logged++;
          }
          params.step(name -> adam);
          normalizeRows(wDec, scratch);
        }
        if (resample) {
          int count = resample(params, firesSinceResample, errorRows, lastErrors, d, random, root);
          log.printf(Locale.ROOT, "step %d  re-initialised %d dead features%n", step, count);
          Arrays.fill(firesSinceResample, 0);
        }
        if (step % o.logEvery() == 0 || step == o.steps()) {
          int silent = 0;
          for (long c : firesSinceLog) {
            silent += c == 0 ? 1 : 0;
          }
          double seconds = (System.nanoTime() - start) / 1e9;
          log.printf(
              Locale.ROOT,
              "step %d/%d  fvu %.4f  L0 %.1f  silent %.1f%%  l1 %.3g  "
                  + "lr %.2e  %,.0f rows/s  %.0f s%n",
              step,
              o.steps(),
              mseSum / varSum,
              l0Sum / logged,
              100.0 * silent / m,
              l1,
              lr.at(step),
              (double) step * o.batch() / seconds,
              seconds);
          Arrays.fill(firesSinceLog, 0);
          mseSum = 0;
          l0Sum = 0;
          varSum = 0;
          logged = 0;
        }
      }
      return fold(params, scale, o);
    }
  }

  /** The constant that gives rescaled inputs a mean squared norm of {@code d}. */
  static float inputScale(float[] x, int n, int d) {
    double sum = 0;
    for (float v : x) {
      sum += (double) v * v;
    }
    return (float) Math.sqrt(d / (sum / n));
  }

  private static Map<String, HostTensor> initial(
      float[] x, int n, int d, int m, float scale, Random random) {
    float[] dec = new float[m * d];
    for (int i = 0; i < m; i++) {
      double norm = 0;
      for (int j = 0; j < d; j++) {
        float v = (float) random.nextGaussian();
        dec[i * d + j] = v;
        norm += (double) v * v;
      }
      float inv = (float) (1 / Math.sqrt(norm));
      for (int j = 0; j < d; j++) {
        dec[i * d + j] *= inv;
      }
    }
    // encoder: the decoder's transpose, scaled down so that the first reconstructions are
    // small and training starts near b_dec instead of from a sum of hundreds of features
    float[] enc = new float[d * m];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < d; j++) {
        enc[j * m + i] = ENCODER_INIT * dec[i * d + j];
      }
    }
    double[] mean = new double[d];
    for (int r = 0; r < n; r++) {
      for (int j = 0; j < d; j++) {
        mean[j] += x[r * d + j];
      }
    }
    float[] bDec = new float[d];
    for (int j = 0; j < d; j++) {
      bDec[j] = (float) (mean[j] / n * scale);
    }
    Map<String, HostTensor> init = new LinkedHashMap<>();
    init.put(W_ENC, new HostTensor(new long[] {d, m}, enc));
    init.put(B_ENC, new HostTensor(new long[] {m}, new float[m]));
    init.put(W_DEC, new HostTensor(new long[] {m, d}, dec));
    init.put(B_DEC, new HostTensor(new long[] {d}, bDec));
    return init;
  }

  private static void shuffle(int[] a, Random random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** Scales each decoder row to unit norm, in place. */
  private static void normalizeRows(NDArray wDec, NDManager scratch) {
    NDArray norms = wDec.norm(new int[] {1}, true);
    norms.attach(scratch);
    wDec.divi(norms.maximum(1e-8f));
  }

  /**
   * Re-initialises the features that never fired since the last resampling: decoder row the
   * normalised reconstruction error of a batch input drawn with probability proportional to its
   * squared error, encoder column the same direction at a fifth of the mean live encoder norm,
   * encoder bias 0. Returns how many features were re-initialised.
   */
  private static int resample(
      Parameters params,
      long[] fires,
      float[] errorRows,
      float[] errors,
      int d,
      Random random,
      NDManager root) {
    int m = fires.length;
    int dead = 0;
    for (long f : fires) {
      dead += f == 0 ? 1 : 0;
    }
    if (dead == 0) {
      return 0;
    }
    NDArray wEnc = params.get(W_ENC);
    NDArray bEnc = params.get(B_ENC);
    NDArray wDec = params.get(W_DEC);
    float[] enc = wEnc.toFloatArray();
    float[] benc = bEnc.toFloatArray();
    float[] dec = wDec.toFloatArray();
    double liveNorm = 0;
    int live = 0;
    for (int i = 0; i < m; i++) {
      if (fires[i] > 0) {
        double s = 0;
        for (int j = 0; j < d; j++) {
          s += (double) enc[j * m + i] * enc[j * m + i];
        }
        liveNorm += Math.sqrt(s);
        live++;
      }
    }
    float encNorm = (float) (0.2 * (live > 0 ? liveNorm / live : 1.0));
    double total = 0;
    for (float e : errors) {
      total += e;
    }
    for (int i = 0; i < m; i++) {
      if (fires[i] != 0) {
        continue;
      }
      int row = draw(errors, total, random);
      // direction: what the SAE failed to reconstruct of that input, x - x_hat
      double norm = 0;
      float[] dir = new float[d];
      for (int j = 0; j < d; j++) {
        dir[j] = -errorRows[row * d + j];
        norm += (double) dir[j] * dir[j];
      }
      float inv = (float) (1 / Math.sqrt(Math.max(norm, 1e-12)));
      for (int j = 0; j < d; j++) {
        dec[i * d + j] = dir[j] * inv;
        enc[j * m + i] = dir[j] * inv * encNorm;
      }
      benc[i] = 0f;
    }
    try (NDManager scratch = root.newSubManager()) {
      overwrite(wEnc, enc, scratch);
      overwrite(bEnc, benc, scratch);
      overwrite(wDec, dec, scratch);
    }
    return dead;
  }

  /**
   * Replaces a parameter's values in place with a copy of {@code data}. (DJL's {@code
   * NDArray.set(Buffer)} would make the tensor alias the Java buffer, whose memory the garbage
   * collector may free while the tensor still uses it.)
   */
  private static void overwrite(NDArray param, float[] data, NDManager scratch) {
    NDArray source = scratch.create(data, param.getShape());
    param.muli(0f).addi(source);
  }

  private static int draw(float[] weights, double total, Random random) {
    double u = random.nextDouble() * total;
    for (int i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u <= 0) {
        return i;
      }
    }
    return weights.length - 1;
  }

  /** The trained weights with the input scale folded in, so they act on raw activations. */
  private static TrainedSae fold(Parameters params, float scale, SaeOptions o) {
    Map<String, HostTensor> w = params.toHost();
    HostTensor wEnc = w.get(W_ENC);
    HostTensor wDec = w.get(W_DEC);
    HostTensor bDec = w.get(B_DEC);
    return new TrainedSae(
        o.architecture(),
        times(wEnc, scale),
        w.get(B_ENC),
        times(wDec, 1 / scale),
        times(bDec, 1 / scale),
        o.k());
  }

  private static HostTensor times(HostTensor t, float s) {
    float[] data = t.data().clone();
    for (int i = 0; i < data.length; i++) {
      data[i] *= s;
    }
    return new HostTensor(t.shape(), data);
  }
}
