package qdm.train;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import qdm.io.HostTensor;
import qdm.io.SafetensorsWriter;
import qdm.model.ModelFiles;
import qdm.model.TensorSpec;
import qdm.model.neox.GptNeoXConfig;

/**
 * Writes a GPT-NeoX model as a Hugging Face model directory: {@code config.json} with every key
 * transformers' {@code GPTNeoXConfig} and QDM read, and {@code model.safetensors} (F32, tensors in
 * the architecture's order). The tokenizer is the caller's to add.
 */
public final class NeoxCheckpoint {
  private NeoxCheckpoint() {}

  /** The {@code config.json} document of {@code config}. */
  public static JsonObject configJson(
      GptNeoXConfig config, int maxPositions, int bosId, int eosId) {
    JsonObject c = new JsonObject();
    JsonArray archs = new JsonArray();
    archs.add("GPTNeoXForCausalLM");
    c.add("architectures", archs);
    c.addProperty("model_type", "gpt_neox");
    c.addProperty("vocab_size", config.vocabSize());
    c.addProperty("hidden_size", config.hiddenSize());
    c.addProperty("num_hidden_layers", config.numLayers());
    c.addProperty("num_attention_heads", config.numHeads());
    c.addProperty("intermediate_size", config.intermediateSize());
    c.addProperty("hidden_act", "gelu");
    c.addProperty("rotary_pct", (double) config.rotaryDims() / config.headDim());
    c.addProperty("rotary_emb_base", config.ropeTheta());
    c.addProperty("max_position_embeddings", maxPositions);
    c.addProperty("layer_norm_eps", config.layerNormEps());
    c.addProperty("use_parallel_residual", config.parallelResidual());
    c.addProperty("attention_bias", config.attentionBias());
    c.addProperty("tie_word_embeddings", config.tiedEmbeddings());
    c.addProperty("initializer_range", 0.02);
    c.addProperty("attention_dropout", 0.0);
    c.addProperty("hidden_dropout", 0.0);
    c.addProperty("use_cache", true);
    c.addProperty("bos_token_id", bosId);
    c.addProperty("eos_token_id", eosId);
    c.addProperty("torch_dtype", "float32");
    return c;
  }

  /**
   * Writes {@code config.json} and {@code model.safetensors} into {@code dir} (created if needed).
   * {@code weights} must hold every tensor of the config (a tied head may be absent).
   */
  public static void write(
      Path dir,
      GptNeoXConfig config,
      Map<String, HostTensor> weights,
      int maxPositions,
      int bosId,
      int eosId) {
    SafetensorsWriter writer = new SafetensorsWriter();
    for (TensorSpec spec : config.tensors()) {
      HostTensor t = weights.get(spec.name());
      if (t == null) {
        if (spec.tiedTo().isPresent() && config.tiedEmbeddings()) {
          continue;
        }
        throw new IllegalArgumentException("no weights for " + spec);
      }
      if (!Arrays.equals(t.shape(), spec.shape())) {
        throw new IllegalArgumentException(
            spec.name() + " has shape " + Arrays.toString(t.shape()) + ", expected " + spec);
      }
      writer.add(spec.name(), t);
    }
    writer.metadata("format", "pt");
    try {
      Files.createDirectories(dir);
      String json =
          new GsonBuilder()
                  .setPrettyPrinting()
                  .create()
                  .toJson(configJson(config, maxPositions, bosId, eosId))
              + "\n";
      Files.writeString(dir.resolve(ModelFiles.CONFIG), json, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
    }
    writer.write(dir.resolve(ModelFiles.SINGLE));
  }
}
