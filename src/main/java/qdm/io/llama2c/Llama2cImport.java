package qdm.io.llama2c;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;
import qdm.QdmException;
import qdm.io.SafetensorsWriter;

/**
 * Writes a llama2.c checkpoint and tokenizer as a Hugging Face Llama model directory: {@code
 * config.json}, {@code model.safetensors} (float32 as trained), {@code tokenizer.json} and {@code
 * tokenizer_config.json}. The directory appears complete or not at all: it is written beside the
 * target and moved into place.
 */
public final class Llama2cImport {
  private Llama2cImport() {}

  /** Converts and writes; {@code out} must not exist yet (or be an empty directory). */
  public static Llama2cHeader write(Path checkpoint, Path tokenizer, Path out) {
    Path target = out.toAbsolutePath().normalize();
    checkTarget(target);
    Llama2cCheckpoint.Tensors t = Llama2cCheckpoint.read(checkpoint);
    Llama2cTokenizer tok = Llama2cTokenizer.read(tokenizer, t.header().vocab());
    Path staging = target.resolveSibling("." + target.getFileName() + ".importing");
    try {
      deleteTree(staging);
      Files.createDirectories(staging);
      SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
      t.byName().forEach(w::add);
      w.write(staging.resolve("model.safetensors"));
      json(staging.resolve("config.json"), config(t.header()));
      json(staging.resolve("tokenizer.json"), tok.toTokenizerJson());
      json(staging.resolve("tokenizer_config.json"), tokenizerConfig(t.header()));
      if (Files.isDirectory(target)) {
        Files.delete(target); // empty, checked above
      }
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new QdmException(target + ": cannot write: " + e.getMessage());
    } finally {
      deleteTree(staging);
    }
    return t.header();
  }

  private static void checkTarget(Path target) {
    if (Files.isRegularFile(target)) {
      throw new QdmException("--out " + target + " is a file; give a directory to create");
    }
    if (Files.isDirectory(target)) {
      try (Stream<Path> s = Files.list(target)) {
        if (s.findAny().isPresent()) {
          throw new QdmException("--out " + target + " is not empty; give a new directory");
        }
      } catch (IOException e) {
        throw new QdmException(target + ": cannot read: " + e.getMessage());
      }
    }
  }

  /** The Hugging Face config of a llama2.c model: Llama with run.c's constants. */
  static JsonObject config(Llama2cHeader h) {
    JsonObject c = new JsonObject();
    com.google.gson.JsonArray arch = new com.google.gson.JsonArray();
    arch.add("LlamaForCausalLM");
    c.add("architectures", arch);
    c.addProperty("model_type", "llama");
    c.addProperty("vocab_size", h.vocab());
    c.addProperty("hidden_size", h.dim());
    c.addProperty("intermediate_size", h.hiddenDim());
    c.addProperty("num_hidden_layers", h.layers());
    c.addProperty("num_attention_heads", h.heads());
    c.addProperty("num_key_value_heads", h.kvHeads());
    c.addProperty("max_position_embeddings", h.seqLen());
    c.addProperty("rms_norm_eps", 1e-5); // run.c's rmsnorm
    c.addProperty("rope_theta", 10000.0); // run.c's RoPE base
    c.addProperty("hidden_act", "silu");
    c.addProperty("tie_word_embeddings", h.sharedClassifier());
    c.addProperty("bos_token_id", 1);
    c.addProperty("eos_token_id", 2);
    c.addProperty("torch_dtype", "float32");
    return c;
  }

  private static JsonObject tokenizerConfig(Llama2cHeader h) {
    JsonObject c = new JsonObject();
    c.addProperty("tokenizer_class", "LlamaTokenizer");
    c.addProperty("add_bos_token", true);
    c.addProperty("add_eos_token", false);
    c.addProperty("bos_token", "<s>");
    c.addProperty("eos_token", "</s>");
    c.addProperty("unk_token", "<unk>");
    c.addProperty("model_max_length", h.seqLen());
    c.addProperty("clean_up_tokenization_spaces", false);
    return c;
  }

  private static void json(Path file, JsonObject o) throws IOException {
    Files.writeString(
        file,
        new GsonBuilder()
                .setPrettyPrinting()
                .disableHtmlEscaping()
                .serializeNulls()
                .create()
                .toJson(o)
            + "\n",
        StandardCharsets.UTF_8);
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
    } catch (IOException e) {
      // best effort: a leftover staging directory is removed by the next import
    }
  }
}
