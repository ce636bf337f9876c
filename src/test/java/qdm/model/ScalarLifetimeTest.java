package qdm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import qdm.train.LmTrainer;
import qdm.train.Parameters;

/**
 * Gradients must not depend on the garbage collector. A scalar that autograd keeps for the backward
 * pass must be memory libtorch owns ({@link Ops#scalar}), not a Java direct buffer that the JVM may
 * free and reuse before backward runs. The test makes that reuse happen between the forward pass
 * and backward: it collects garbage, then allocates many small direct buffers filled with NaN,
 * which take the place of any freed scalar buffers. The oracle is the same gradient computed
 * without that pressure.
 */
class ScalarLifetimeTest {

  @Test
  void aProductWithAScalarKeepsItsGradient() {
    try (NDManager root = TorchEngine.newManager(Device.cpu())) {
      NDArray x = root.create(new float[] {1, 2, 3});
      x.setRequiresGradient(true);
      try (GradientCollector gc = TorchEngine.engine().newGradientCollector()) {
        NDArray y;
        try (NDManager scratch = root.newSubManager()) {
          x.tempAttach(scratch);
          y = x.mul(Ops.scalar(x, 3)).sum();
          y.attach(root);
        } // the scalar's handle is closed here, as a forward pass's scratch arrays are
        List<ByteBuffer> held = reuseFreedBuffers();
        gc.backward(y);
        held.clear();
      }
      assertArrayEquals(new float[] {3, 3, 3}, x.getGradient().toFloatArray());
    }
  }

  @Test
  void modelGradientsDoNotDependOnGarbageCollection() {
    Random r = new Random(9);
    long[] ids = new long[4 * 12];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = r.nextInt(GradientThroughGroupsTest.TINY.vocabSize());
    }
    try (NDManager root = TorchEngine.newManager(Device.cpu())) {
      Parameters params =
          Parameters.of(root, LmTrainer.initialWeights(GradientThroughGroupsTest.TINY, 3));
      Model model = Model.over(GradientThroughGroupsTest.TINY, params.manager(), params.arrays());
      Map<String, float[]> calm = gradients(model, params, ids, false);
      Map<String, float[]> pressed = gradients(model, params, ids, true);
      for (String name : calm.keySet()) {
        assertArrayEquals(calm.get(name), pressed.get(name), 0f, name);
      }
      model.close();
    }
  }

  private static Map<String, float[]> gradients(
      Model model, Parameters params, long[] ids, boolean pressure) {
    try (NDManager b = model.weights().manager().newSubManager();
        GradientCollector gc = TorchEngine.engine().newGradientCollector()) {
      NDArray x = b.create(ids, new Shape(4, 12));
      NDArray loss =
          model.transformer().forwardWhole(x, Capture.logitsAndNll()).nll().orElseThrow().mean();
      List<ByteBuffer> held = pressure ? reuseFreedBuffers() : new ArrayList<>();
      gc.backward(loss);
      held.clear();
    }
    return GradientThroughGroupsTest.takeGradients(params);
  }

  /**
   * Lets the JVM free every unreachable direct buffer, then allocates small direct buffers full of
   * NaN; the allocator hands out the freed blocks first.
   */
  static List<ByteBuffer> reuseFreedBuffers() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      try {
        Thread.sleep(50); // the Cleaner thread frees the buffers' memory
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    List<ByteBuffer> held = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      int size = 4 << (i % 4); // 4 to 32 bytes: the sizes of DJL's scalar buffers
      ByteBuffer buf = ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
      while (buf.remaining() >= 4) {
        buf.putFloat(Float.NaN);
      }
      held.add(buf);
    }
    return held;
  }
}
