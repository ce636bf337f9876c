package qdm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.QdmException;
import qdm.cli.Main;
import qdm.io.HostTensor;
import qdm.io.SafetensorsFile;
import qdm.io.SafetensorsWriter;
import qdm.testing.Reference;

/**
 * A model that cannot be loaded fails before any compute with one {@link QdmException} naming what
 * is wrong and what was expected; through the CLI that is one line on stderr, exit code 2, and no
 * output file.
 */
class ModelErrorsTest {
  private static final String UP = "gpt_neox.layers.1.mlp.dense_h_to_4h.weight";
  private static final String DENSE = "gpt_neox.layers.2.attention.dense.weight";

  @TempDir Path tmp;

  /**
   * A copy of the reference neox dir with its config edited and some tensors replaced (a null value
   * drops the tensor).
   */
  private Path broken(Consumer<JsonObject> editConfig, Map<String, HostTensor> replace)
      throws IOException {
    Path ref = Reference.model("neox");
    Path dir = Files.createDirectories(tmp.resolve("model"));
    JsonObject config =
        JsonParser.parseString(Files.readString(ref.resolve("config.json"))).getAsJsonObject();
    editConfig.accept(config);
    Files.writeString(dir.resolve("config.json"), config.toString());
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile f = SafetensorsFile.open(ref.resolve("model.safetensors"))) {
      for (String name : f.names()) {
        if (!replace.containsKey(name)) {
          w.add(name, new HostTensor(f.info(name).shape(), f.readFloats(name)));
        } else if (replace.get(name) != null) {
          w.add(name, replace.get(name));
        }
      }
    }
    w.write(dir.resolve("model.safetensors"));
    return dir;
  }

  private static QdmException loadFails(Path dir) {
    try (NDManager root = TorchEngine.newManager(Device.cpu())) {
      return assertThrows(
          QdmException.class,
          () -> Model.load(ModelFiles.of(dir), root, Device.cpu(), DataType.FLOAT32).close());
    }
  }

  /** Runs {@code forward} on the dir; asserts exit code 2, no output, and returns stderr. */
  private String forwardFails(Path dir) {
    Path out = tmp.resolve("out.safetensors");
    StringWriter err = new StringWriter();
    int code =
        Main.commandLine()
            .setErr(new PrintWriter(err, true))
            .execute(
                "forward",
                "--model",
                dir.toString(),
                "--input-ids",
                Reference.model("neox").resolve("inputs.json").toString(),
                "--out",
                out.toString());
    assertEquals(QdmException.BAD_INPUT, code, "exit code; stderr: " + err);
    assertFalse(Files.exists(out), "no output file is written");
    // also through the entry point the launcher calls
    assertEquals(
        QdmException.BAD_INPUT,
        Main.run(
            "forward",
            "--model",
            dir.toString(),
            "--input-ids",
            Reference.model("neox").resolve("inputs.json").toString(),
            "--out",
            out.toString()));
    assertFalse(Files.exists(out), "no output file is written");
    String text = err.toString();
    assertTrue(text.startsWith("qdm: "), text);
    assertFalse(text.contains("\tat "), "no stack trace: " + text);
    return text;
  }

  @Test
  void unknownModelType() throws IOException {
    Path dir = broken(c -> c.addProperty("model_type", "mamba"), Map.of());
    String message = loadFails(dir).getMessage();
    assertTrue(
        message.contains("config.json")
            && message.contains("'mamba'")
            && message.contains("gpt_neox")
            && message.contains("gemma2"),
        message);
    assertTrue(forwardFails(dir).contains("'mamba'"));
  }

  @Test
  void missingModelType() throws IOException {
    Path dir = broken(c -> c.remove("model_type"), Map.of());
    String message = loadFails(dir).getMessage();
    assertTrue(message.contains("config.json") && message.contains("model_type"), message);
    forwardFails(dir);
  }

  @Test
  void missingTensor() throws IOException {
    java.util.HashMap<String, HostTensor> drop = new java.util.HashMap<>();
    drop.put(UP, null);
    Path dir = broken(c -> {}, drop);
    String message = loadFails(dir).getMessage();
    assertTrue(
        message.contains("model.safetensors")
            && message.contains("missing tensor '" + UP + "' (expected shape [256, 64])"),
        message);
    assertTrue(forwardFails(dir).contains(UP));
  }

  @Test
  void misShapedTensor() throws IOException {
    Path dir =
        broken(c -> {}, Map.of(DENSE, new HostTensor(new long[] {64, 32}, new float[64 * 32])));
    String message = loadFails(dir).getMessage();
    assertTrue(
        message.contains("tensor '" + DENSE + "' has shape [64, 32], expected [64, 64]"), message);
    assertTrue(forwardFails(dir).contains(DENSE));
  }

  @Test
  void everyProblemInOneMessage() throws IOException {
    java.util.HashMap<String, HostTensor> replace = new java.util.HashMap<>();
    replace.put(UP, null);
    replace.put(DENSE, new HostTensor(new long[] {64, 32}, new float[64 * 32]));
    replace.put("embed_out.weight", null);
    String message = loadFails(broken(c -> {}, replace)).getMessage();
    assertTrue(message.contains("3 problem(s)"), message);
    assertTrue(
        message.contains(UP)
            && message.contains(DENSE)
            && message.contains("missing tensor 'embed_out.weight' (expected shape [512, 64])"),
        message);
  }

  @Test
  void invalidConfigValueNamesTheKey() throws IOException {
    Path dir = broken(c -> c.addProperty("num_attention_heads", 5), Map.of());
    String message = loadFails(dir).getMessage();
    assertTrue(message.contains("config.json") && message.contains("num_attention_heads"), message);
    forwardFails(dir);
  }
}
