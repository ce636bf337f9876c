package qdm.io.llama2c;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import qdm.condition.Condition;
import qdm.model.Placement;
import qdm.model.Processing;
import qdm.probe.ForwardProbe;
import qdm.probe.ForwardRequest;

/**
 * The shipped demo model, {@code assets/demo/stories15M}, against llama2.c itself: the greedy
 * continuation that {@code run.c} produced at temperature 0 from BOS on the original checkpoint
 * ({@code src/test/resources/llama2c/run-c-greedy.json}, made by the script beside it) is what
 * QDM's forward pass predicts at every step; and its tokenizer is the conversion of llama2.c's
 * {@code tokenizer.bin}.
 */
class Stories15MTest {
  static final Path MODEL = Path.of("assets/demo/stories15M");

  @Test
  void greedyContinuationFromBosEqualsLlama2cRunC() throws Exception {
    JsonObject oracle =
        JsonParser.parseString(
                Files.readString(Path.of("src/test/resources/llama2c/run-c-greedy.json")))
            .getAsJsonObject();
    JsonArray generated = oracle.getAsJsonArray("generated_ids");
    long[] ids = new long[generated.size() + 1];
    ids[0] = 1; // BOS, as run.c starts
    for (int i = 0; i < generated.size(); i++) {
      ids[i + 1] = generated.get(i).getAsLong();
    }
    float[] logits =
        ForwardProbe.run(
                new ForwardRequest(
                    MODEL,
                    Optional.empty(),
                    new long[][] {ids},
                    Placement.CPU,
                    Processing.NONE,
                    new Condition.Reference("fp"),
                    Optional.empty()))
            .get("logits")
            .data();
    int vocab = 32000;
    // greedy decoding: each step's argmax is the next token run.c emitted
    for (int t = 0; t < generated.size(); t++) {
      int best = 0;
      for (int v = 1; v < vocab; v++) {
        if (logits[t * vocab + v] > logits[t * vocab + best]) {
          best = v;
        }
      }
      assertEquals(ids[t + 1], best, "step " + t + " of " + oracle.get("text").getAsString());
    }
  }

  @Test
  void theShippedTokenizerIsTheConversionOfLlama2cTokenizerBin() throws Exception {
    JsonObject expected =
        Llama2cTokenizer.read(Path.of("src/test/resources/llama2c/tokenizer.bin"), 32000)
            .toTokenizerJson();
    JsonObject shipped =
        JsonParser.parseString(Files.readString(MODEL.resolve("tokenizer.json"))).getAsJsonObject();
    // (not assertEquals: its message would print 32,000 pieces)
    assertTrue(expected.equals(shipped), "assets/demo/stories15M/tokenizer.json differs");
  }
}
