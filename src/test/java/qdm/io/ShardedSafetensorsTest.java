package qdm.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.cli.Main;
import qdm.testing.Reference;

/**
 * A sharded checkpoint ({@code model.safetensors.index.json}) made in the test by splitting the
 * reference GPT-NeoX model across two shards. Oracle: the forward pass over the shards equals the
 * pass over the single file, and both match the Hugging Face expectation.
 */
class ShardedSafetensorsTest {
  @TempDir Path tmp;

  /** Writes the reference model's tensors alternately into two shards plus the index. */
  private Path shardedCopy(String model) throws IOException {
    Path ref = Reference.model(model);
    Path dir = Files.createDirectories(tmp.resolve(model + "-sharded"));
    Files.copy(ref.resolve("config.json"), dir.resolve("config.json"));
    SafetensorsWriter[] shards = {new SafetensorsWriter(), new SafetensorsWriter()};
    String[] names = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
    JsonObject weightMap = new JsonObject();
    long totalSize = 0;
    try (SafetensorsFile f = SafetensorsFile.open(ref.resolve("model.safetensors"))) {
      int i = 0;
      for (String name : f.names()) {
        int shard = i++ % 2;
        shards[shard].add(name, new HostTensor(f.info(name).shape(), f.readFloats(name)));
        weightMap.addProperty(name, names[shard]);
        totalSize += f.info(name).byteLength();
      }
    }
    for (int s = 0; s < 2; s++) {
      shards[s].write(dir.resolve(names[s]));
    }
    JsonObject index = new JsonObject();
    JsonObject metadata = new JsonObject();
    metadata.addProperty("total_size", totalSize);
    index.add("metadata", metadata);
    index.add("weight_map", weightMap);
    Files.writeString(dir.resolve("model.safetensors.index.json"), index.toString());
    return dir;
  }

  private Path forward(Path modelDir, Path inputs, String outName) {
    Path out = tmp.resolve(outName);
    assertEquals(
        0,
        Main.run(
            "forward",
            "--model",
            modelDir.toString(),
            "--input-ids",
            inputs.toString(),
            "--out",
            out.toString()));
    return out;
  }

  @Test
  void shardedForwardEqualsUnsharded() throws IOException {
    Path ref = Reference.model("neox");
    Path sharded = shardedCopy("neox");
    try (TensorStore store =
            qdm.model.ModelFiles.of(sharded)
                .openWeights(qdm.model.JsonFields.read(sharded.resolve("config.json")));
        SafetensorsFile single = SafetensorsFile.open(ref.resolve("model.safetensors"))) {
      assertTrue(store instanceof ShardedSafetensors, "the index is what gets opened");
      assertEquals(Set.copyOf(single.names()), Set.copyOf(store.names()));
      for (String name : single.names()) {
        assertEquals(
            java.util.Arrays.toString(single.readFloats(name)),
            java.util.Arrays.toString(store.readFloats(name)),
            name);
      }
    }
    Path inputs = ref.resolve("inputs.json");
    Path fromShards = forward(sharded, inputs, "sharded.safetensors");
    Path fromSingle = forward(ref, inputs, "single.safetensors");
    try (SafetensorsFile a = SafetensorsFile.open(fromShards);
        SafetensorsFile b = SafetensorsFile.open(fromSingle)) {
      assertEquals(b.names(), a.names());
      for (String name : a.names()) {
        Reference.assertClose(
            Reference.read(fromSingle, name), Reference.read(fromShards, name), 0.0, name);
        Reference.assertClose(
            Reference.read(ref.resolve("expected.safetensors"), name),
            Reference.read(fromShards, name),
            1e-4,
            name + " vs transformers");
      }
    }
  }

  @Test
  void indexErrorsNameTheIndexAndTensor() throws IOException {
    Path dir = shardedCopy("neox");
    Path index = dir.resolve("model.safetensors.index.json");
    String good = Files.readString(index);
    String tensor = "gpt_neox.embed_in.weight";
    // the tensor is mapped to the shard that does not hold it
    String swapped =
        good.replace(
            "\"" + tensor + "\":\"model-00001-of-00002.safetensors\"",
            "\"" + tensor + "\":\"model-00002-of-00002.safetensors\"");
    List<String[]> cases = new ArrayList<>();
    cases.add(new String[] {swapped, tensor, "does not contain it"});
    cases.add(
        new String[] {
          good.replace("model-00002-of-00002", "model-00003-of-00002"),
          "model-00003-of-00002.safetensors",
          "no such file"
        });
    cases.add(
        new String[] {
          good.replace(
              "\"" + tensor + "\":\"model-00001-of-00002.safetensors\"", "\"" + tensor + "\":7"),
          tensor,
          "expected a shard file name"
        });
    cases.add(new String[] {"{\"metadata\":{}}", "index.json", "weight_map"});
    cases.add(new String[] {"{\"weight_map\":", "index.json", "not valid JSON"});
    for (String[] c : cases) {
      Files.writeString(index, c[0]);
      TensorFormatException e =
          assertThrows(TensorFormatException.class, () -> ShardedSafetensors.open(index).close());
      assertTrue(
          e.getMessage().contains(c[1]) && e.getMessage().contains(c[2]),
          "mentions " + c[1] + " and " + c[2] + ": " + e.getMessage());
    }
  }
}
