package qdm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import qdm.model.neox.GptNeoXConfig;
import qdm.train.LmTrainer;
import qdm.train.Parameters;

/**
 * On the CPU the forward pass splits large batches into groups of sequences. The split must not
 * change the gradients (training may run through it): the oracle is the same loss computed in one
 * piece. The chunked NLL is left out: training takes the NLL from whole logits ({@link
 * Capture#logitsAndNll()}).
 */
class GradientThroughGroupsTest {
  static final GptNeoXConfig TINY =
      new GptNeoXConfig(
          48, 32, 2, 4, 64, 4, 10000, 1e-5f, true, true, false, Nonlinearity.fromHf("gelu"));

  @Test
  void groupedPassesGiveTheGradientsOfTheWholeBatch() {
    Random r = new Random(5);
    long[] ids = new long[6 * 12];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = r.nextInt(TINY.vocabSize());
    }
    try (NDManager root = TorchEngine.newManager(Device.cpu())) {
      Parameters params = Parameters.of(root, LmTrainer.initialWeights(TINY, 3));
      Model model = Model.over(TINY, params.manager(), params.arrays());
      Map<String, float[]> whole = gradients(model, params, ids, 1 << 20);
      Map<String, float[]> split = gradients(model, params, ids, 24); // 3 groups of 2
      for (String name : whole.keySet()) {
        assertArrayEquals(whole.get(name), split.get(name), 1e-5f, name);
      }
      model.close();
    }
  }

  private static Map<String, float[]> gradients(
      Model model, Parameters params, long[] ids, long groupTokens) {
    Transformer t = model.transformer();
    try (NDManager b = model.weights().manager().newSubManager();
        GradientCollector gc = TorchEngine.engine().newGradientCollector()) {
      NDArray x = b.create(ids, new Shape(6, 12));
      NDArray loss = t.forward(x, Capture.logitsAndNll(), groupTokens).nll().orElseThrow().mean();
      gc.backward(loss);
    }
    return takeGradients(params);
  }

  /** Every parameter's gradient, copied to the host; the gradients are zeroed for the next pass. */
  static Map<String, float[]> takeGradients(Parameters params) {
    Map<String, float[]> out = new LinkedHashMap<>();
    params
        .arrays()
        .forEach(
            (name, w) -> {
              NDArray g = w.getGradient();
              out.put(name, g.toFloatArray());
              g.subi(g);
            });
    return out;
  }
}
