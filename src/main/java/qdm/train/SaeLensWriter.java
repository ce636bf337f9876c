package qdm.train;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import qdm.io.SafetensorsWriter;

/**
 * Writes an SAE as a SAELens directory: {@code cfg.json} and {@code sae_weights.safetensors}
 * ({@code W_enc} [d_in, d_sae], {@code b_enc}, {@code W_dec} [d_sae, d_in], {@code b_dec}, F32).
 * The config carries the metadata both at the top level (SAELens before 6) and under {@code meta}
 * (SAELens 6), with {@code hook_point} as the oldest releases name the hook.
 */
public final class SaeLensWriter {
  public static final String CONFIG = "cfg.json";
  public static final String WEIGHTS = "sae_weights.safetensors";

  private SaeLensWriter() {}

  /**
   * Where an SAE belongs: the model it reads, its hook and how its training text was fed.
   *
   * @param modelName the model's name or path, as SAELens records it
   * @param contextSize tokens per window the activations were taken from
   * @param dataset what the SAE was trained on
   */
  public record Meta(
      String modelName,
      String hook,
      int layer,
      int contextSize,
      boolean prependBos,
      String dataset) {}

  /** The {@code cfg.json} document. */
  public static JsonObject config(TrainedSae sae, Meta meta) {
    JsonObject c = new JsonObject();
    c.addProperty("architecture", sae.architecture());
    c.addProperty("d_in", sae.dIn());
    c.addProperty("d_sae", sae.dSae());
    if (sae.architecture().equals(SaeOptions.TOPK)) {
      c.addProperty("k", sae.k());
    }
    c.addProperty("dtype", "float32");
    c.addProperty("device", "cpu");
    c.addProperty("apply_b_dec_to_input", true);
    c.addProperty("normalize_activations", "none");
    c.addProperty("reshape_activations", "none");
    c.addProperty("finetuning_scaling_factor", false);
    c.addProperty("model_name", meta.modelName());
    c.addProperty("hook_name", meta.hook());
    c.addProperty("hook_point", meta.hook());
    c.addProperty("hook_layer", meta.layer());
    c.add("hook_head_index", JsonNull.INSTANCE);
    c.addProperty("context_size", meta.contextSize());
    c.addProperty("prepend_bos", meta.prependBos());
    c.addProperty("dataset_path", meta.dataset());
    JsonObject m = new JsonObject();
    m.addProperty("model_name", meta.modelName());
    m.addProperty("hook_name", meta.hook());
    m.addProperty("hook_layer", meta.layer());
    m.add("hook_head_index", JsonNull.INSTANCE);
    m.addProperty("context_size", meta.contextSize());
    m.addProperty("prepend_bos", meta.prependBos());
    m.addProperty("dataset_path", meta.dataset());
    c.add("meta", m);
    return c;
  }

  /** Writes {@code cfg.json} and {@code sae_weights.safetensors} into {@code dir}. */
  public static void write(Path dir, TrainedSae sae, Meta meta) {
    try {
      Files.createDirectories(dir);
      Files.writeString(
          dir.resolve(CONFIG),
          new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(config(sae, meta))
              + "\n",
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
    }
    new SafetensorsWriter()
        .add("W_enc", sae.wEnc())
        .add("b_enc", sae.bEnc())
        .add("W_dec", sae.wDec())
        .add("b_dec", sae.bDec())
        .metadata("format", "pt")
        .write(dir.resolve(WEIGHTS));
  }
}
