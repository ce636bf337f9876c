package qdm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import qdm.io.FiniteTensors;
import qdm.io.TensorInfo;
import qdm.io.TensorStore;

/** Tensors of a {@link TensorStore} (safetensors, npz) created as NDArrays on a device. */
public final class DeviceTensors {
  /** Elements read per Java array. */
  private static final int BLOCK = 1 << 24;

  private DeviceTensors() {}

  /**
   * Reads one tensor widened to float32 and creates it on the manager's device as {@code dtype}. A
   * tensor larger than {@link #BLOCK} elements (one Java array tops out at 2^31) is read in blocks
   * of whole rows along its first axis and concatenated on the device.
   */
  public static NDArray read(TensorStore store, String name, NDManager manager, DataType dtype) {
    TensorInfo info = store.info(name);
    long[] shape = info.shape();
    long numel = info.numel();
    if (numel <= BLOCK) {
      float[] data = new float[(int) numel];
      store.readFloats(name, 0, data, 0, (int) numel);
      requireFinite(store, info, data, 0);
      return cast(manager.create(data, new Shape(shape)), dtype);
    }
    // Large tensor: blocks of whole rows along the first axis, concatenated on the device.
    long rowLength = numel / shape[0];
    long rowsPerBlock = Math.max(1, BLOCK / rowLength);
    List<NDArray> blocks = new ArrayList<>();
    try (NDManager scratch = manager.newSubManager()) {
      for (long row = 0; row < shape[0]; row += rowsPerBlock) {
        long rows = Math.min(rowsPerBlock, shape[0] - row);
        float[] data = new float[Math.toIntExact(rows * rowLength)];
        store.readFloats(name, row * rowLength, data, 0, data.length);
        requireFinite(store, info, data, row * rowLength);
        long[] blockShape = shape.clone();
        blockShape[0] = rows;
        blocks.add(cast(scratch.create(data, new Shape(blockShape)), dtype));
      }
      NDArray whole = NDArrays.concat(new NDList(blocks), 0);
      whole.attach(manager);
      return whole;
    }
  }

  /**
   * Every tensor that reaches a device is finite: the host block is checked while it is in memory
   * anyway, so a NaN fails the load naming the file, tensor and index instead of turning the
   * forward pass's outputs into NaN.
   */
  private static void requireFinite(
      TensorStore store, TensorInfo info, float[] block, long offset) {
    int bad = FiniteTensors.firstNonFinite(block, 0, block.length);
    if (bad >= 0) {
      throw FiniteTensors.notFinite(store.fileOf(info.name()), info, offset + bad, block[bad]);
    }
  }

  private static NDArray cast(NDArray a, DataType dtype) {
    if (a.getDataType() == dtype) {
      return a;
    }
    NDArray c = a.toType(dtype, false);
    a.close();
    return c;
  }
}
