package qdm.perplexity;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import qdm.data.Window;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.Placement;
import qdm.model.TorchEngine;
import qdm.testing.Reference;

/**
 * Perplexity against brute force: each target token scored alone, on exactly the context its window
 * gives it, by a separate forward pass over that context.
 */
class PerplexityTest {
  static NDManager root;
  static Model model;
  static int[] stream;

  @BeforeAll
  static void load() {
    root = TorchEngine.newManager(Placement.CPU.device());
    model =
        Model.load(
            ModelFiles.of(Reference.model("neox")),
            root,
            Placement.CPU.device(),
            Placement.CPU.dtype());
    Random random = new Random(7);
    stream = new int[61];
    for (int i = 0; i < stream.length; i++) {
      stream[i] = random.nextInt(512);
    }
  }

  @AfterAll
  static void close() {
    model.close();
    root.close();
  }

  /** NLL of stream[target] given stream[from .. target - 1], by its own forward pass. */
  static double bruteForce(int from, int target) {
    int[] context = java.util.Arrays.copyOfRange(stream, from, target + 1);
    Window w = new Window(0, Window.CHUNK, from, context, 0);
    float[][] nll = Perplexity.nll(model.transformer(), List.of(w));
    return nll[0][context.length - 2];
  }

  @Test
  void slidingScoresEveryTargetOnceWithItsWindowContext() {
    int length = 16;
    int stride = 5;
    double sum = 0;
    for (int target = 1; target < stream.length; target++) {
      // the window that scores a target is the first one whose end lies beyond it
      int k = 0;
      while (Math.min(k * stride + length, stream.length) <= target) {
        k++;
      }
      sum += bruteForce(k * stride, target);
    }
    NllTotal total = Perplexity.sliding(model.transformer(), stream, length, stride, 3);
    assertEquals(stream.length - 1, total.count());
    assertEquals(sum, total.sum(), 1e-3);
    assertEquals(1, Math.exp(sum / (stream.length - 1)) / total.perplexity(), 1e-5);
  }

  @Test
  void chunkedScoresTargetsOneToTMinusOneOfEachChunk() {
    int length = 12;
    double sum = 0;
    long count = 0;
    for (int chunk = 0; (chunk + 1) * length <= stream.length; chunk++) {
      for (int j = 1; j < length; j++) {
        sum += bruteForce(chunk * length, chunk * length + j);
        count++;
      }
    }
    NllTotal total = Perplexity.chunked(model.transformer(), stream, length, 2);
    assertEquals(count, total.count());
    assertEquals(sum, total.sum(), 1e-3);
    assertEquals(1, Math.exp(sum / count) / total.perplexity(), 1e-5);
  }

  @Test
  void batchMeanFormAveragesBatchMeans() {
    NllTotal t = new NllTotal();
    t.addBatch(10, 5);
    t.addBatch(3, 1);
    assertEquals(Math.exp((2.0 + 3.0) / 2), t.batchMeanPerplexity(), 1e-12);
    assertEquals(Math.exp(13.0 / 6), t.perplexity(), 1e-12);
  }
}
