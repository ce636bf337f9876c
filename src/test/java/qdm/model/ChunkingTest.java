package qdm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import qdm.io.HostTensor;
import qdm.probe.ForwardProbe;
import qdm.probe.ForwardRequest;
import qdm.testing.Reference;

/**
 * The memory-saving paths compute what the one-shot paths compute: the NLL unembedded a few rows at
 * a time equals the NLL from the full logits (and the transformers fixture), and attention over
 * groups of sequences equals attention over the whole batch.
 */
class ChunkingTest {

  @ParameterizedTest
  @ValueSource(strings = {"neox", "gemma2"})
  void chunkedNllEqualsNllFromFullLogits(String name) {
    Path dir = Reference.model(name);
    long[][] ids = ForwardRequest.readInputIds(dir.resolve("inputs.json"));
    HostTensor expected = Reference.read(dir.resolve("expected.safetensors"), "nll");
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model model = Model.load(ModelFiles.of(dir), root, Device.cpu(), DataType.FLOAT32);
        NDManager batch = root.newSubManager()) {
      long[] flat = new long[ids.length * ids[0].length];
      for (int b = 0; b < ids.length; b++) {
        System.arraycopy(ids[b], 0, flat, b * ids[0].length, ids[b].length);
      }
      NDArray tokens = batch.create(flat, new Shape(ids.length, ids[0].length));
      Transformer t = model.transformer();
      Activations all = t.forward(tokens, Capture.everything());
      HostTensor full = ForwardProbe.host(all.nll().orElseThrow());
      HostTensor nllOnly =
          ForwardProbe.host(t.forward(tokens, Capture.nllOnly()).nll().orElseThrow());
      List<NDArray> hidden = all.hiddenStates();
      NDArray finalNormed = hidden.get(hidden.size() - 1);
      for (int rows : new int[] {1, 5, 23, 46, 1000}) {
        HostTensor chunked = ForwardProbe.host(t.nextTokenNllChunked(finalNormed, tokens, rows));
        Reference.assertClose(full, chunked, 1e-5, rows + " rows per chunk");
      }
      Reference.assertClose(full, nllOnly, 1e-5, "Capture.nllOnly");
      Reference.assertClose(expected, nllOnly, 1e-4, "Capture.nllOnly vs transformers");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"neox", "gemma2"})
  void groupsOfSequencesEqualTheWholeBatch(String name) {
    Path dir = Reference.model(name);
    long[][] ids = ForwardRequest.readInputIds(dir.resolve("inputs.json"));
    long[] flat = new long[3 * ids[0].length];
    for (int b = 0; b < 3; b++) { // three rows: groups of one and of two
      System.arraycopy(ids[b % 2], 0, flat, b * ids[0].length, ids[0].length);
    }
    long seq = ids[0].length;
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model model = Model.load(ModelFiles.of(dir), root, Device.cpu(), DataType.FLOAT32)) {
      Transformer t = model.transformer();
      for (Capture capture :
          new Capture[] {
            Capture.everything(),
            Capture.nllOnly(),
            Capture.residualAt(1),
            Capture.residualAndNll(0)
          }) {
        try (NDManager batch = root.newSubManager()) {
          NDArray tokens = batch.create(flat, new Shape(3, seq));
          Activations whole = t.forward(tokens, capture, Long.MAX_VALUE);
          for (long groupTokens : new long[] {1, seq, 2 * seq}) {
            Activations grouped = t.forward(tokens, capture, groupTokens);
            String what = capture + ", groups of " + groupTokens + " tokens";
            assertEquals(whole.residuals().keySet(), grouped.residuals().keySet(), what);
            for (int layer : whole.residuals().keySet()) {
              assertSame(whole.residPost(layer), grouped.residPost(layer), what);
            }
            if (capture.hiddenStates()) {
              for (int i = 0; i < whole.hiddenStates().size(); i++) {
                assertSame(whole.hiddenStates().get(i), grouped.hiddenStates().get(i), what);
              }
            }
            assertEquals(whole.logits().isPresent(), grouped.logits().isPresent(), what);
            whole.logits().ifPresent(l -> assertSame(l, grouped.logits().get(), what));
            assertEquals(whole.nll().isPresent(), grouped.nll().isPresent(), what);
            whole.nll().ifPresent(l -> assertSame(l, grouped.nll().get(), what));
            NDArray any =
                grouped.nll().orElseGet(() -> grouped.residuals().values().iterator().next());
            assertEquals(batch, any.getManager(), "outputs live in the batch manager");
          }
        }
      }
    }
  }

  /** Same shape and values to 1e-6. */
  private static void assertSame(NDArray expected, NDArray actual, String what) {
    Reference.assertClose(ForwardProbe.host(expected), ForwardProbe.host(actual), 1e-6, what);
  }

  @Test
  void singleTokenSequencesHaveAnEmptyNll() {
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model model =
            Model.load(
                ModelFiles.of(Reference.model("neox")), root, Device.cpu(), DataType.FLOAT32);
        NDManager batch = root.newSubManager()) {
      NDArray tokens = batch.create(new long[] {5, 7}, new Shape(2, 1));
      for (Capture capture : new Capture[] {Capture.nllOnly(), Capture.everything()}) {
        NDArray nll = model.transformer().forward(tokens, capture).nll().orElseThrow();
        assertArrayEquals(new long[] {2, 0}, nll.getShape().getShape(), capture.toString());
      }
    }
  }

  @Test
  void rowsPerChunkKeepsLogitsChunksSmall() {
    assertEquals(125, Transformer.rowsPerChunk(50304)); // 24 MiB of float32 logits
    assertEquals(1, Transformer.rowsPerChunk(Integer.MAX_VALUE));
  }

  @Test
  void groupedAttentionEqualsWholeBatch() {
    try (NDManager m = TorchEngine.newManager(Device.cpu())) {
      m.getEngine().setRandomSeed(7);
      int batch = 5;
      int heads = 4;
      int kvHeads = 2;
      int seq = 7;
      int dim = 8;
      NDArray q = m.randomNormal(new Shape(batch, heads, seq, dim));
      NDArray k = m.randomNormal(new Shape(batch, kvHeads, seq, dim));
      NDArray v = m.randomNormal(new Shape(batch, kvHeads, seq, dim));
      for (int window : new int[] {0, 3}) {
        NDArray mask = Attention.mask(m, seq, window);
        for (float cap : new float[] {0f, 2f}) {
          float[] whole = Attention.attend(q, k, v, mask, 0.3f, cap, Long.MAX_VALUE).toFloatArray();
          long perSequence = 4L * heads * seq * seq;
          for (long budget : new long[] {1, perSequence, 2 * perSequence, 4 * perSequence}) {
            NDArray grouped = Attention.attend(q, k, v, mask, 0.3f, cap, budget);
            assertArrayEquals(new long[] {batch, seq, heads * dim}, grouped.getShape().getShape());
            assertArrayEquals(
                whole,
                grouped.toFloatArray(),
                1e-6f,
                "window " + window + ", cap " + cap + ", budget " + budget);
          }
        }
      }
    }
  }
}
