package qdm.io.quant;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import qdm.QdmException;

/**
 * The {@code quantization_config} object of a config.json (or an object nested in it: {@code
 * prefix} is its key path), with errors naming the key.
 */
public record QuantConfig(Path file, String prefix, JsonObject json) {

  public QuantConfig(Path file, JsonObject json) {
    this(file, "quantization_config", json);
  }

  /**
   * The quantization config of {@code config} ({@code quantization_config}, or {@code
   * compression_config} as older compressed-tensors exports name it), if any.
   */
  public static Optional<QuantConfig> of(Path file, JsonObject config) {
    for (String key : new String[] {"quantization_config", "compression_config"}) {
      JsonElement e = config.get(key);
      if (e != null && !e.isJsonNull()) {
        if (!e.isJsonObject()) {
          throw new QdmException(file + ": " + key + " is " + e + "; expected an object");
        }
        return Optional.of(new QuantConfig(file, key, e.getAsJsonObject()));
      }
    }
    return Optional.empty();
  }

  /** The first of {@code configs} (config.json files; absent ones skipped) that has one. */
  public static Optional<QuantConfig> find(
      java.util.function.Function<Path, JsonObject> reader, Path... configs) {
    for (Path p : configs) {
      if (p != null && Files.isRegularFile(p)) {
        Optional<QuantConfig> q = of(p, reader.apply(p));
        if (q.isPresent()) {
          return q;
        }
      }
    }
    return Optional.empty();
  }

  public boolean has(String key) {
    return json.has(key) && !json.get(key).isJsonNull();
  }

  public String string(String key, String fallback) {
    if (!has(key)) {
      return fallback;
    }
    JsonElement v = json.get(key);
    if (!v.isJsonPrimitive()) {
      throw invalid(key, "a string");
    }
    return v.getAsString();
  }

  public int integer(String key, int fallback) {
    if (!has(key)) {
      return fallback;
    }
    JsonElement v = json.get(key);
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
      throw invalid(key, "an integer");
    }
    double d = v.getAsDouble();
    if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
      throw invalid(key, "an integer");
    }
    return (int) d;
  }

  public boolean bool(String key, boolean fallback) {
    if (!has(key)) {
      return fallback;
    }
    JsonElement v = json.get(key);
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean()) {
      throw invalid(key, "true or false");
    }
    return v.getAsBoolean();
  }

  /** A nested object, for formats whose config nests ({@code config_groups}). */
  public QuantConfig object(String key) {
    if (!has(key) || !json.get(key).isJsonObject()) {
      throw invalid(key, "an object");
    }
    return new QuantConfig(file, prefix + "." + key, json.getAsJsonObject(key));
  }

  public QdmException invalid(String key, String expected) {
    return new QdmException(
        file
            + ": "
            + prefix
            + "."
            + key
            + " is "
            + (has(key) ? json.get(key) : "missing")
            + "; expected "
            + expected);
  }
}
