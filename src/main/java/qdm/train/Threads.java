package qdm.train;

import qdm.model.TorchEngine;

/**
 * libtorch's intra-op thread count for a training run. Training pins it (one thread by default)
 * because float reductions split over a different number of threads round differently, and a seeded
 * run should give the same bits when it is repeated.
 */
public final class Threads {
  private Threads() {}

  /** Sets the number of intra-op threads libtorch uses from now on. */
  public static void set(int threads) {
    if (threads < 1) {
      throw new qdm.QdmException("--threads must be at least 1, got " + threads);
    }
    TorchEngine.engine(); // loads the native library first
    ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
  }
}
