package qdm.model.neox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.cli.Main;
import qdm.io.HostTensor;
import qdm.io.SafetensorsFile;
import qdm.io.SafetensorsWriter;
import qdm.probe.ForwardRequest;
import qdm.testing.Reference;

/**
 * GPT-NeoX variants that have no Hugging Face fixture: the sequential residual ({@code
 * use_parallel_residual = false}) and tied embeddings. Oracle: {@link NaiveGptNeoX}, which is first
 * shown to reproduce the transformers fixture of the parallel model, then run on the variant next
 * to the {@code forward} command.
 */
class GptNeoXVariantsTest {
  static final double TOLERANCE = 1e-4;

  @TempDir Path tmp;

  @Test
  void erfMatchesKnownValues() {
    // tabulated values of erf; the oracle needs far less than the 1e-12 asked here
    double[][] known = {
      {0, 0},
      {0.1, 0.1124629160182849},
      {0.5, 0.5204998778130465},
      {1, 0.8427007929497149},
      {2, 0.9953222650189527},
      {2.9, 0.9999589021219005},
      {3, 0.9999779095030014},
      {3.5, 0.9999992569016276},
      {5, 0.9999999999984626}
    };
    for (double[] k : known) {
      assertEquals(k[1], NaiveGptNeoX.erf(k[0]), 1e-12, "erf(" + k[0] + ")");
      assertEquals(-k[1], NaiveGptNeoX.erf(-k[0]), 1e-12, "erf(-" + k[0] + ")");
    }
  }

  @Test
  void naiveOracleReproducesTransformers() {
    Path dir = Reference.model("neox");
    NaiveGptNeoX naive =
        new NaiveGptNeoX(dir.resolve("config.json"), dir.resolve("model.safetensors"));
    assertMatches(naive, dir, dir.resolve("expected.safetensors"));
  }

  @Test
  void sequentialResidualMatchesTheOracle() throws IOException {
    Path dir = variant("sequential", c -> c.addProperty("use_parallel_residual", false), false);
    Path out = forward(dir);
    assertMatches(
        new NaiveGptNeoX(dir.resolve("config.json"), dir.resolve("model.safetensors")), dir, out);
    // the flag is honoured: the sequential outputs are not the parallel ones
    double moved =
        Reference.maxAbsDiff(
            Reference.read(Reference.model("neox").resolve("expected.safetensors"), "logits"),
            Reference.read(out, "logits"));
    assertTrue(moved > 1e-2, "sequential logits moved by only " + moved);
  }

  @Test
  void tiedEmbeddingsWithoutEmbedOutMatchTheOracle() throws IOException {
    Path dir = variant("tied", c -> c.addProperty("tie_word_embeddings", true), true);
    Path out = forward(dir);
    assertMatches(
        new NaiveGptNeoX(dir.resolve("config.json"), dir.resolve("model.safetensors")), dir, out);
  }

  /**
   * A copy of the reference model dir with its config edited and, if asked, without {@code
   * embed_out.weight}.
   */
  private Path variant(
      String name, java.util.function.Consumer<JsonObject> edit, boolean dropEmbedOut)
      throws IOException {
    Path ref = Reference.model("neox");
    Path dir = Files.createDirectories(tmp.resolve(name));
    JsonObject config =
        JsonParser.parseString(Files.readString(ref.resolve("config.json"))).getAsJsonObject();
    edit.accept(config);
    Files.writeString(dir.resolve("config.json"), config.toString());
    Files.copy(ref.resolve("inputs.json"), dir.resolve("inputs.json"));
    if (!dropEmbedOut) {
      Files.copy(ref.resolve("model.safetensors"), dir.resolve("model.safetensors"));
    } else {
      SafetensorsWriter w = new SafetensorsWriter();
      try (SafetensorsFile f = SafetensorsFile.open(ref.resolve("model.safetensors"))) {
        for (String t : f.names()) {
          if (!t.equals("embed_out.weight")) {
            w.add(t, new HostTensor(f.info(t).shape(), f.readFloats(t)));
          }
        }
      }
      w.write(dir.resolve("model.safetensors"));
    }
    return dir;
  }

  private Path forward(Path dir) {
    Path out = tmp.resolve(dir.getFileName() + "-out.safetensors");
    assertEquals(
        0,
        Main.run(
            "forward",
            "--model",
            dir.toString(),
            "--input-ids",
            dir.resolve("inputs.json").toString(),
            "--out",
            out.toString()));
    return out;
  }

  /** Every output of {@code actual} agrees with the oracle run on the dir's inputs. */
  private static void assertMatches(NaiveGptNeoX naive, Path dir, Path actual) {
    long[][] ids = ForwardRequest.readInputIds(dir.resolve("inputs.json"));
    NaiveGptNeoX.Output[] outs = new NaiveGptNeoX.Output[ids.length];
    for (int b = 0; b < ids.length; b++) {
      outs[b] = naive.forward(ids[b]);
    }
    int states = outs[0].hiddenStates().length;
    try (SafetensorsFile f = SafetensorsFile.open(actual)) {
      assertEquals(states + 2, f.names().size(), "hidden states, logits and nll");
    }
    for (int i = 0; i < states; i++) {
      int layer = i;
      Reference.assertClose(
          stack(ids.length, b -> outs[b].hiddenStates()[layer]),
          Reference.read(actual, "hidden_states." + i),
          TOLERANCE,
          "hidden_states." + i);
    }
    Reference.assertClose(
        stack(ids.length, b -> outs[b].logits()),
        Reference.read(actual, "logits"),
        TOLERANCE,
        "logits");
    HostTensor nll = stack(ids.length, b -> new double[][] {outs[b].nll()});
    Reference.assertClose(
        new HostTensor(new long[] {ids.length, nll.dim(2)}, nll.data()),
        Reference.read(actual, "nll"),
        TOLERANCE,
        "nll");
  }

  /** [B][T][n] doubles from one [T][n] array per batch row, as a float32 tensor. */
  private static HostTensor stack(int batch, java.util.function.IntFunction<double[][]> row) {
    double[][] first = row.apply(0);
    int seq = first.length;
    int n = first[0].length;
    float[] data = new float[batch * seq * n];
    for (int b = 0; b < batch; b++) {
      double[][] r = row.apply(b);
      for (int t = 0; t < seq; t++) {
        for (int i = 0; i < n; i++) {
          data[(b * seq + t) * n + i] = (float) r[t][i];
        }
      }
    }
    return new HostTensor(new long[] {batch, seq, n}, data);
  }
}
