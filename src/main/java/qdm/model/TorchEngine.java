package qdm.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * The one place QDM touches DJL's engine setup: it forces offline mode before the engine loads (DJL
 * otherwise probes the network for natives and usage tracking) and hands out managers.
 */
public final class TorchEngine {
  private static final String ENGINE = "PyTorch";

  private TorchEngine() {}

  /** Sets DJL's offline switches; idempotent, and cheap enough to call before every use. */
  public static void offline() {
    System.setProperty("ai.djl.offline", "true");
    System.setProperty("OPT_OUT_TRACKING", "true");
  }

  /** The PyTorch engine, loaded offline. */
  public static Engine engine() {
    offline();
    return Engine.getEngine(ENGINE);
  }

  /** A new root manager on {@code device}. */
  public static NDManager newManager(Device device) {
    return engine().newBaseManager(device);
  }

  /** Number of GPUs libtorch sees (0 with the CPU natives). */
  public static int gpuCount() {
    return engine().getGpuCount();
  }
}
