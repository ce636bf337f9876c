package qdm.sae;

import com.google.gson.JsonElement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import qdm.model.JsonFields;

/**
 * Comparing the model an SAE was trained on with the model it is applied to.
 *
 * <p>Names come in several spellings for one model: SAELens writes {@code pythia-70m-deduped},
 * Hugging Face {@code EleutherAI/pythia-70m-deduped}. Two names match when their last path
 * component agrees ignoring case and {@code _}/{@code -}; {@code pythia-70m} and {@code
 * pythia-70m-deduped} stay different models. A name can also name a model family, which is checked
 * against the model's {@code model_type} even when the model's own name is unknown.
 */
public final class ModelName {
  private static final Pattern PYTHIA = Pattern.compile("pythia|gpt-neox");
  // gemma-2-2b, gemma2-9b, but not gemma-2b (Gemma 1)
  private static final Pattern GEMMA2 = Pattern.compile("gemma-?2(?![0-9b.])");

  private ModelName() {}

  /** The comparable form: last path component, lower case, {@code _} as {@code -}. */
  public static String normalize(String name) {
    String s = name.trim();
    int slash = s.lastIndexOf('/');
    if (slash >= 0) {
      s = s.substring(slash + 1);
    }
    return s.toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** True if both names denote the same model. */
  public static boolean same(String a, String b) {
    return normalize(a).equals(normalize(b));
  }

  /** The Hugging Face {@code model_type} a model name implies, for the families QDM runs. */
  public static Optional<String> family(String name) {
    String n = normalize(name);
    if (PYTHIA.matcher(n).find()) {
      return Optional.of("gpt_neox");
    }
    if (GEMMA2.matcher(n).find()) {
      return Optional.of("gemma2");
    }
    return Optional.empty();
  }

  /**
   * The name a Hugging Face model directory records for itself: {@code _name_or_path} in its {@code
   * config.json} when that is a hub id or a plain name (a local path says nothing).
   */
  public static Optional<String> of(Path modelDir) {
    Path config = modelDir.resolve("config.json");
    if (!Files.isRegularFile(config)) {
      return Optional.empty();
    }
    JsonElement v = JsonFields.read(config).json().get("_name_or_path");
    if (v == null || !v.isJsonPrimitive()) {
      return Optional.empty();
    }
    String s = v.getAsString().trim();
    boolean localPath =
        s.isEmpty()
            || s.startsWith("/")
            || s.startsWith(".")
            || s.startsWith("~")
            || s.contains("\\")
            || s.chars().filter(c -> c == '/').count() > 1;
    return localPath ? Optional.empty() : Optional.of(s);
  }
}
