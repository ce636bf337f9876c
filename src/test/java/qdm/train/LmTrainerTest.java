package qdm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.io.HostTensor;
import qdm.model.Capture;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.Nonlinearity;
import qdm.model.TorchEngine;
import qdm.model.neox.GptNeoXConfig;
import qdm.perplexity.Perplexity;

/**
 * Training through the audited forward pass: gradients against finite differences, a loss that
 * falls on a learnable stream, and a written checkpoint that loads back to the same logits.
 */
class LmTrainerTest {
  static final GptNeoXConfig TINY =
      new GptNeoXConfig(
          48, 32, 2, 4, 64, 4, 10000, 1e-5f, true, true, false, Nonlinearity.fromHf("gelu"));
  static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

  /** A stream a small model can learn: a fixed cycle of 12 tokens with a random start. */
  static int[] cyclicStream(int length, long seed) {
    Random r = new Random(seed);
    int[] cycle = new int[12];
    for (int i = 0; i < cycle.length; i++) {
      cycle[i] = r.nextInt(TINY.vocabSize());
    }
    int[] s = new int[length];
    for (int i = 0; i < length; i++) {
      s[i] = cycle[i % cycle.length];
    }
    return s;
  }

  static double loss(Model model, long[] ids, int batch, int length) {
    try (NDManager b = model.weights().manager().newSubManager()) {
      NDArray x = b.create(ids, new Shape(batch, length));
      return model
          .transformer()
          .forward(x, Capture.nllOnly())
          .nll()
          .orElseThrow()
          .mean()
          .getFloat();
    }
  }

  @Test
  void gradientsThroughTheForwardPassMatchFiniteDifferences() {
    Random r = new Random(7);
    long[] ids = new long[2 * 10];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = r.nextInt(TINY.vocabSize());
    }
    try (NDManager root = TorchEngine.newManager(Device.cpu())) {
      Parameters params = Parameters.of(root, LmTrainer.initialWeights(TINY, 1));
      Model model = Model.over(TINY, params.manager(), params.arrays());
      try (NDManager b = root.newSubManager();
          GradientCollector gc = TorchEngine.engine().newGradientCollector()) {
        NDArray x = b.create(ids, new Shape(2, 10));
        gc.backward(model.transformer().forward(x, Capture.nllOnly()).nll().orElseThrow().mean());
      }
      for (String name :
          new String[] {
            "gpt_neox.embed_in.weight",
            "gpt_neox.layers.0.attention.query_key_value.weight",
            "gpt_neox.layers.1.mlp.dense_4h_to_h.weight",
            "gpt_neox.layers.1.input_layernorm.bias",
            "embed_out.weight"
          }) {
        NDArray w = params.get(name);
        NDArray g = w.getGradient();
        float[] grad = g.toFloatArray();
        g.close();
        int at = 0;
        for (int i = 1; i < grad.length; i++) {
          if (Math.abs(grad[i]) > Math.abs(grad[at])) {
            at = i;
          }
        }
        NDIndex index = index(w.getShape(), at);
        float old =
            w.getFloat(
                w.getShape().dimension() == 1
                    ? new long[] {at}
                    : new long[] {at / w.getShape().get(1), at % w.getShape().get(1)});
        float eps = 1e-2f;
        w.set(index, old + eps);
        double up = loss(model, ids, 2, 10);
        w.set(index, old - eps);
        double down = loss(model, ids, 2, 10);
        w.set(index, old);
        double numeric = (up - down) / (2 * eps);
        assertEquals(numeric, grad[at], 0.02 * Math.abs(numeric) + 1e-4, name);
      }
      model.close();
    }
  }

  private static NDIndex index(Shape shape, int flat) {
    return shape.dimension() == 1
        ? new NDIndex(flat)
        : new NDIndex(flat / shape.get(1), flat % shape.get(1));
  }

  @Test
  void lossFallsAndTheWrittenDirectoryGivesTheSameLogits(@TempDir Path dir) throws Exception {
    int[] train = cyclicStream(4000, 3);
    int[] eval = cyclicStream(600, 3);
    Map<String, HostTensor> initial = LmTrainer.initialWeights(TINY, 5);
    LmOptions o = new LmOptions(40, 8, 24, 1e-2, 4, 0.1, 0.0, 1.0, 5, 10, 0);
    Map<String, HostTensor> trained = LmTrainer.train(TINY, initial, train, eval, o, QUIET);
    double before;
    double after;
    try (NDManager root = TorchEngine.newManager(Device.cpu())) {
      try (Model m0 = Model.over(TINY, root.newSubManager(), arrays(root, initial))) {
        before = Perplexity.chunked(m0.transformer(), eval, 24, 8).perplexity();
      }
      NeoxCheckpoint.write(dir, TINY, trained, 24, 0, 0);
      assertEquals(TINY, Model.readConfig(ModelFiles.of(dir)));
      long[] ids = new long[3 * 24];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = eval[i];
      }
      try (Model memory = Model.over(TINY, root.newSubManager(), arrays(root, trained));
          Model loaded = Model.load(ModelFiles.of(dir), root, Device.cpu(), DataType.FLOAT32)) {
        after = Perplexity.chunked(loaded.transformer(), eval, 24, 8).perplexity();
        assertArrayEquals(logits(memory, ids), logits(loaded, ids), 0f);
      }
    }
    assertTrue(after < before / 4, "perplexity " + before + " -> " + after);
  }

  @Test
  void sameSeedGivesTheSameWeights() {
    int[] train = cyclicStream(2000, 4);
    LmOptions o = new LmOptions(3, 4, 16, 1e-2, 1, 0.1, 0.1, 1.0, 9, 10, 0);
    Map<String, HostTensor> a =
        LmTrainer.train(TINY, LmTrainer.initialWeights(TINY, 9), train, new int[0], o, QUIET);
    Map<String, HostTensor> b =
        LmTrainer.train(TINY, LmTrainer.initialWeights(TINY, 9), train, new int[0], o, QUIET);
    assertEquals(a, b);
    assertTrue(!a.equals(LmTrainer.initialWeights(TINY, 9)), "training changed the weights");
  }

  private static Map<String, NDArray> arrays(NDManager root, Map<String, HostTensor> host) {
    Map<String, NDArray> out = new java.util.LinkedHashMap<>();
    host.forEach((k, v) -> out.put(k, root.create(v.data(), new Shape(v.shape()))));
    return out;
  }

  private static float[] logits(Model model, long[] ids) {
    try (NDManager b = model.weights().manager().newSubManager()) {
      NDArray x = b.create(ids, new Shape(3, 24));
      return model
          .transformer()
          .forward(x, new Capture(java.util.Set.of(), false, true, false))
          .logits()
          .orElseThrow()
          .toFloatArray();
    }
  }
}
