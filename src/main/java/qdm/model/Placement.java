package qdm.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.util.Locale;
import qdm.QdmException;

/**
 * Where a model runs and in which float type: CPU float32, or a GPU in float32 or float16. Parsing
 * the user's words into a placement happens here and nowhere else.
 */
public record Placement(Device device, DataType dtype) {

  public static final Placement CPU = new Placement(Device.cpu(), DataType.FLOAT32);

  /** The dtypes a config or the command line may ask for. */
  public static final java.util.List<String> DTYPES =
      java.util.List.of("auto", "float32", "float16");

  /**
   * Parses {@code cpu}, {@code gpu}, {@code gpu:N} and a dtype ({@code float32} / {@code f32},
   * {@code float16} / {@code f16}, or {@code auto}: float16 on a GPU, float32 on the CPU).
   */
  public static Placement parse(String device, String dtype) {
    Device d = parseDevice(device);
    DataType t =
        switch (dtype.toLowerCase(Locale.ROOT)) {
          case "auto" -> d.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
          case "float32", "f32", "fp32" -> DataType.FLOAT32;
          case "float16", "f16", "fp16" -> DataType.FLOAT16;
          default ->
              throw new QdmException(
                  "dtype '"
                      + dtype
                      + "' is not supported; expected one of "
                      + String.join(", ", DTYPES)
                      + " (bfloat16 weights are "
                      + "widened to float32 on load)");
        };
    if (!d.isGpu() && t == DataType.FLOAT16) {
      throw new QdmException("dtype float16 needs a GPU; use float32 on the CPU");
    }
    return new Placement(d, t);
  }

  /** Parses {@code cpu}, {@code gpu} (GPU 0) or {@code gpu:N}. */
  public static Device parseDevice(String device) {
    String s = device.toLowerCase(Locale.ROOT).trim();
    if (s.equals("cpu")) {
      return Device.cpu();
    }
    if (s.equals("gpu") || s.equals("cuda")) {
      return Device.gpu(0);
    }
    if (s.startsWith("gpu:") || s.startsWith("cuda:")) {
      try {
        return Device.gpu(Integer.parseInt(s.substring(s.indexOf(':') + 1)));
      } catch (NumberFormatException e) {
        // fall through to the error
      }
    }
    throw new QdmException("device '" + device + "' is not one of cpu, gpu, gpu:N");
  }

  @Override
  public String toString() {
    return device + "/" + dtype.name().toLowerCase(Locale.ROOT);
  }
}
