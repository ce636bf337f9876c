package qdm.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import qdm.QdmException;

/**
 * Typed reads from a JSON object (a {@code config.json}, an SAE {@code cfg.json}) whose errors name
 * the file and the key.
 */
public final class JsonFields {
  private final Path file;
  private final JsonObject json;

  public JsonFields(Path file, JsonObject json) {
    this.file = file;
    this.json = json;
  }

  /** Reads and parses a JSON object file. */
  public static JsonFields read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new QdmException(file + ": no such file");
    } catch (IOException e) {
      throw new QdmException(file + ": cannot read: " + e.getMessage(), e);
    }
    try {
      JsonElement root = JsonParser.parseString(text);
      if (!root.isJsonObject()) {
        throw new QdmException(file + ": expected a JSON object");
      }
      return new JsonFields(file, root.getAsJsonObject());
    } catch (JsonParseException e) {
      throw new QdmException(file + ": invalid JSON: " + qdm.io.JsonErrors.describe(e));
    }
  }

  public Path file() {
    return file;
  }

  public JsonObject json() {
    return json;
  }

  public boolean has(String key) {
    return json.has(key) && !json.get(key).isJsonNull();
  }

  /** A nested object as its own fields (errors still name this file). */
  public JsonFields object(String key) {
    if (!has(key) || !json.get(key).isJsonObject()) {
      throw missing(key, "an object");
    }
    return new JsonFields(file, json.getAsJsonObject(key));
  }

  public String string(String key) {
    if (!has(key) || !json.get(key).isJsonPrimitive()) {
      throw missing(key, "a string");
    }
    return json.get(key).getAsString();
  }

  public String string(String key, String fallback) {
    return has(key) ? string(key) : fallback;
  }

  public int integer(String key) {
    if (!has(key)) {
      throw missing(key, "an integer");
    }
    try {
      double d = json.get(key).getAsDouble();
      int i = json.get(key).getAsInt();
      if (d != i) {
        throw new NumberFormatException();
      }
      return i;
    } catch (RuntimeException e) {
      throw new QdmException(file + ": key '" + key + "' must be an integer, got " + json.get(key));
    }
  }

  public int integer(String key, int fallback) {
    return has(key) ? integer(key) : fallback;
  }

  public double number(String key) {
    if (!has(key)) {
      throw missing(key, "a number");
    }
    double v;
    try {
      v = json.get(key).getAsDouble();
    } catch (RuntimeException e) {
      throw new QdmException(file + ": key '" + key + "' must be a number, got " + json.get(key));
    }
    if (!Double.isFinite(v)) {
      // Python's json module writes NaN and Infinity, which a lenient parser accepts
      throw new QdmException(
          file + ": key '" + key + "' must be a finite number, got " + json.get(key));
    }
    return v;
  }

  public double number(String key, double fallback) {
    return has(key) ? number(key) : fallback;
  }

  public boolean bool(String key, boolean fallback) {
    if (!has(key)) {
      return fallback;
    }
    JsonElement v = json.get(key);
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean()) {
      throw new QdmException(file + ": key '" + key + "' must be true or false, got " + v);
    }
    return v.getAsBoolean();
  }

  /** An error for a key that has a value outside what QDM accepts. */
  public QdmException invalid(String key, String expected) {
    return new QdmException(
        file
            + ": key '"
            + key
            + "' is "
            + (has(key) ? json.get(key) : "missing")
            + "; expected "
            + expected);
  }

  private QdmException missing(String key, String what) {
    return new QdmException(file + ": key '" + key + "' is missing or not " + what);
  }
}
