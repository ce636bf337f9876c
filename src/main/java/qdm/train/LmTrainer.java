package qdm.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import qdm.io.HostTensor;
import qdm.io.TensorInfo;
import qdm.model.Capture;
import qdm.model.Model;
import qdm.model.TensorRole;
import qdm.model.TensorSpec;
import qdm.model.TorchEngine;
import qdm.model.neox.GptNeoXConfig;
import qdm.perplexity.Perplexity;

/**
 * Trains a GPT-NeoX language model with DJL autograd on the CPU, through the very forward pass QDM
 * audits: the parameters are the arrays of a {@link Model} built with {@link Model#over}, and the
 * loss is the mean of {@link qdm.model.Transformer#forward}'s next-token NLL.
 *
 * <p>Deterministic for a given seed, thread count and machine: weights are initialised in Java from
 * the seed, and batches are windows at seeded random offsets of the token stream.
 */
public final class LmTrainer {
  private LmTrainer() {}

  /**
   * Initial weights in the GPT-NeoX layout of {@code config}: normal(0, 0.02) matrices, output
   * projections of each block scaled down by {@code sqrt(2 * layers)} (GPT-2's residual scaling),
   * LayerNorm weights 1, biases 0. Drawn in tensor order from one seeded generator.
   */
  public static Map<String, HostTensor> initialWeights(GptNeoXConfig config, long seed) {
    Random random = new Random(seed);
    double std = 0.02;
    double residualStd = std / Math.sqrt(2.0 * config.numLayers());
    Map<String, HostTensor> out = new LinkedHashMap<>();
    for (TensorSpec spec : config.tensors()) {
      if (spec.tiedTo().isPresent() && config.tiedEmbeddings()) {
        continue;
      }
      long[] shape = spec.shape();
      float[] data = new float[Math.toIntExact(TensorInfo.numel(shape))];
      boolean isWeight = spec.name().endsWith("weight");
      if (spec.role() == TensorRole.NORM && isWeight) {
        Arrays.fill(data, 1f);
      } else if (isWeight && spec.role() != TensorRole.NORM) {
        boolean residualOut =
            spec.name().endsWith("attention.dense.weight")
                || spec.name().endsWith("mlp.dense_4h_to_h.weight");
        double s = residualOut ? residualStd : std;
        for (int i = 0; i < data.length; i++) {
          data[i] = (float) (random.nextGaussian() * s);
        }
      }
      out.put(spec.name(), new HostTensor(shape, data));
    }
    return out;
  }

  /**
   * Trains from {@code initial} on {@code train} tokens, printing progress to {@code log}, and
   * evaluating chunked perplexity on {@code eval} (windows of {@code context} tokens) every {@code
   * evalEvery} steps and at the end. Returns the trained weights.
   */
  public static Map<String, HostTensor> train(
      GptNeoXConfig config,
      Map<String, HostTensor> initial,
      int[] train,
      int[] eval,
      LmOptions o,
      PrintStream log) {
    int window = o.context() + 1;
    if (train.length < window) {
      throw new qdm.QdmException(
          "the training stream has "
              + train.length
              + " tokens, fewer than one window of "
              + window);
    }
    Random batches = new Random(o.seed() ^ 0x5DEECE66DL);
    Schedule schedule = o.schedule();
    Optimizer decayed =
        Optimizer.adamW()
            .optLearningRateTracker(schedule)
            .optBeta1(0.9f)
            .optBeta2(0.95f)
            .optWeightDecays((float) o.weightDecay())
            .build();
    Optimizer plain =
        Optimizer.adamW()
            .optLearningRateTracker(schedule)
            .optBeta1(0.9f)
            .optBeta2(0.95f)
            .optWeightDecays(0f)
            .build();
    Set<String> decayedNames = decayed(config);
    try (NDManager root = TorchEngine.newManager(Device.cpu())) {
      Parameters params = Parameters.of(root, initial);
      Model model = Model.over(config, params.manager(), params.arrays());
      long start = System.nanoTime();
      double lossSum = 0;
      int lossCount = 0;
      for (int step = 1; step <= o.steps(); step++) {
        long[] ids = new long[o.batch() * window];
        for (int b = 0; b < o.batch(); b++) {
          int offset = batches.nextInt(train.length - window + 1);
          for (int t = 0; t < window; t++) {
            ids[b * window + t] = train[offset + t];
          }
        }
        double gradNorm;
        try (NDManager batch = root.newSubManager()) {
          try (GradientCollector collector = TorchEngine.engine().newGradientCollector()) {
            NDArray x = batch.create(ids, new Shape(o.batch(), window));
            NDArray loss =
                model
                    .transformer()
                    .forwardWhole(x, Capture.logitsAndNll())
                    .nll()
                    .orElseThrow()
                    .mean();
            collector.backward(loss);
            float value = loss.getFloat();
            if (!Float.isFinite(value)) {
              throw new IllegalStateException(
                  "the training loss is "
                      + value
                      + " at step "
                      + step
                      + "; lower --lr or raise --warmup");
            }
            lossSum += value;
            lossCount++;
          }
          gradNorm = params.clipGradientNorm(o.clipNorm());
          params.step(name -> decayedNames.contains(name) ? decayed : plain);
        }
        if (step % o.logEvery() == 0 || step == o.steps()) {
          double seconds = (System.nanoTime() - start) / 1e9;
          log.printf(
              Locale.ROOT,
              "step %d/%d  loss %.4f  lr %.2e  grad-norm %.3f  " + "%,.0f tokens/s  %.0f s%n",
              step,
              o.steps(),
              lossSum / lossCount,
              schedule.at(step),
              gradNorm,
              (double) step * o.batch() * o.context() / seconds,
              seconds);
          lossSum = 0;
          lossCount = 0;
        }
        if (eval.length > o.context()
            && o.evalEvery() > 0
            && step % o.evalEvery() == 0
            && step != o.steps()) {
          double ppl =
              Perplexity.chunked(model.transformer(), eval, o.context(), o.batch()).perplexity();
          log.printf(
              Locale.ROOT,
              "step %d  held-out loss %.4f  perplexity %.2f%n",
              step,
              Math.log(ppl),
              ppl);
        }
      }
      Map<String, HostTensor> out = params.toHost();
      model.close();
      return out;
    }
  }

  /** Names weight decay applies to: matrices and embeddings, not norms and biases. */
  static Set<String> decayed(GptNeoXConfig config) {
    Set<String> out = new HashSet<>();
    for (TensorSpec spec : config.tensors()) {
      if (spec.role() != TensorRole.NORM && spec.role() != TensorRole.BIAS) {
        out.add(spec.name());
      }
    }
    return out;
  }
}
