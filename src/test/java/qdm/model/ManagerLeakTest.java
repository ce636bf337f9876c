package qdm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import qdm.testing.Reference;

/**
 * A long loop of forward passes neither leaks nor attaches anything to the model: the weights'
 * manager and the root manager hold the same arrays after 40 passes as before, and everything a
 * pass created is freed when its batch manager closes.
 */
class ManagerLeakTest {
  static final int PASSES = 40;

  @ParameterizedTest
  @ValueSource(strings = {"neox", "gemma2"})
  void manyForwardPassesLeaveNothingBehind(String name) {
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model model =
            Model.load(
                ModelFiles.of(Reference.model(name)), root, Device.cpu(), DataType.FLOAT32)) {
      NDManager weights = model.weights().manager();
      int weightArrays = weights.getManagedArrays().size();
      int rootArrays = root.getManagedArrays().size();
      assertEquals(weightArrays, rootArrays, "the root holds only the weights");
      assertTrue(weightArrays > 10);

      Capture[] captures = {Capture.everything(), Capture.nllOnly(), Capture.residualAt(1)};
      int[] leftInBatch = new int[2 * captures.length];
      for (int i = 0; i < PASSES; i++) {
        Capture capture = captures[i % captures.length];
        List<NDArray> produced = new ArrayList<>();
        try (NDManager batch = root.newSubManager()) {
          long[] ids = new long[2 * 16];
          for (int j = 0; j < ids.length; j++) {
            ids[j] = (i * 31L + j * 7L) % model.config().vocabSize();
          }
          NDArray tokens = batch.create(ids, new Shape(2, 16));
          // odd passes run in groups of one sequence, as large CPU batches do
          Activations a =
              i % 2 == 0
                  ? model.transformer().forward(tokens, capture)
                  : model.transformer().forward(tokens, capture, 16);
          a.residuals().values().forEach(produced::add);
          a.logits().ifPresent(produced::add);
          a.nll().ifPresent(produced::add);
          if (capture.hiddenStates()) {
            produced.addAll(a.hiddenStates());
          }
          assertTrue(!produced.isEmpty());
          // during the pass nothing joined the weights' manager
          assertEquals(weightArrays, weights.getManagedArrays().size(), "weights manager");
          // what stays in the batch is the same from one pass of a kind to the next
          int left = batch.getManagedArrays().size();
          int kind = i % (2 * captures.length);
          if (i < 2 * captures.length) {
            leftInBatch[kind] = left;
          } else {
            assertEquals(leftInBatch[kind], left, "arrays left in the batch after pass " + i);
          }
          produced.add(tokens);
        }
        for (NDArray p : produced) {
          assertTrue(p.isReleased(), "freed with its batch");
        }
        assertEquals(weightArrays, weights.getManagedArrays().size(), "weights manager");
        assertEquals(rootArrays, root.getManagedArrays().size(), "root manager");
      }
    }
  }
}
