package qdm.spark;

import ai.djl.Device;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import qdm.QdmException;
import qdm.model.Placement;

/**
 * Chooses the device a Spark task runs the model on. The one place this decision is made:
 *
 * <ul>
 *   <li>a GPU Spark assigned to the task ({@code spark.task.resource.gpu.amount}) is used, unless
 *       the config says {@code device = cpu};
 *   <li>{@code device = gpu} without an assigned GPU means GPU 0 in local mode (Spark's local mode
 *       does not schedule GPUs) and is an error on a cluster;
 *   <li>otherwise the CPU.
 * </ul>
 *
 * The dtype {@code auto} is float16 on a GPU and float32 on the CPU.
 */
public final class PlacementPolicy {
  /** The devices a config may ask for ({@code execution.device}). */
  public static final java.util.List<String> DEVICES = java.util.List.of("auto", "cpu", "gpu");

  private PlacementPolicy() {}

  /** The decision, from plain inputs (testable without Spark). */
  public static Placement choose(
      String device, String dtype, Optional<String[]> assignedGpus, boolean localMaster) {
    String d;
    if (device.equals("cpu")) {
      d = "cpu";
    } else if (assignedGpus.isPresent() && assignedGpus.get().length > 0) {
      d = "gpu:" + assignedGpus.get()[0].trim();
    } else if (device.equals("gpu")) {
      if (!localMaster) {
        throw new QdmException(
            "qdm.execution.device = gpu, but Spark assigned no GPU to this "
                + "task: set spark.executor.resource.gpu.amount and spark.task.resource.gpu.amount "
                + "(see conf/spark-gpu.conf), or use device = auto");
      }
      d = "gpu:0";
    } else {
      d = "cpu";
    }
    return Placement.parse(d, dtype);
  }

  /** The decision for the current Spark task (or the driver, outside a task). */
  public static Placement forCurrentTask(String device, String dtype, boolean localMaster) {
    TaskContext task = TaskContext.get();
    Optional<String[]> gpus = Optional.empty();
    if (task != null) {
      Map<String, ResourceInformation> resources = task.resourcesJMap();
      ResourceInformation gpu = resources.get("gpu");
      if (gpu != null) {
        gpus = Optional.of(gpu.addresses());
      }
    }
    return choose(device, dtype, gpus, localMaster);
  }

  /** Device for messages. */
  static String describe(Device d) {
    return d.isGpu() ? "gpu:" + d.getDeviceId() : "cpu";
  }
}
