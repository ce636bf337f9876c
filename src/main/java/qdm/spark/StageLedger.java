package qdm.spark;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import qdm.tables.Schemas;

/**
 * Which stages of a run are complete, and with which inputs: one small JSON manifest per stage (or
 * per condition of the encode stage) under {@code _stages/}, written only after the stage's tables
 * are in place. A re-run skips a step whose manifest has the same fingerprint, a hash of every
 * setting that can change its output.
 */
public final class StageLedger {
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();
  private final RunLayout layout;

  public StageLedger(RunLayout layout) {
    this.layout = layout;
  }

  private Path manifest(String step) {
    return new Path(layout.table("_stages"), step.replace('/', '.') + ".json");
  }

  /** The manifest of a completed step, if any. */
  public Optional<JsonObject> read(String step) {
    // a record that does not parse (a hand-edited or damaged file) counts as no record
    return layout
        .readText(manifest(step))
        .flatMap(
            s -> {
              try {
                JsonElement e = JsonParser.parseString(s);
                return e.isJsonObject() ? Optional.of(e.getAsJsonObject()) : Optional.empty();
              } catch (RuntimeException ex) {
                return Optional.empty();
              }
            });
  }

  /** True if {@code step} completed with exactly this fingerprint. */
  public boolean isComplete(String step, String fingerprint) {
    return read(step)
        .map(m -> m.has("fingerprint") && m.get("fingerprint").getAsString().equals(fingerprint))
        .orElse(false);
  }

  /** True if {@code step} has a record, made with another fingerprint than this one. */
  public boolean isStale(String step, String fingerprint) {
    return read(step).isPresent() && !isComplete(step, fingerprint);
  }

  /**
   * Condition names of the {@code encode/NAME} records present (from versions that encoded each
   * condition in its own step).
   */
  public java.util.List<String> conditionSteps() {
    java.util.List<String> out = new java.util.ArrayList<>();
    for (String f : layout.children(layout.table("_stages"))) {
      if (f.startsWith("encode.") && f.endsWith(".json") && !f.equals("encode.json")) {
        out.add(f.substring("encode.".length(), f.length() - ".json".length()));
      }
    }
    return out;
  }

  /** Records {@code step} as complete, with facts worth keeping (counts, chosen values). */
  public void complete(String step, String fingerprint, Map<String, ?> facts) {
    JsonObject m = new JsonObject();
    m.addProperty("step", step);
    m.addProperty("fingerprint", fingerprint);
    m.addProperty("schema_version", Schemas.VERSION);
    m.addProperty("completed_at", Instant.now().toString());
    m.add("facts", GSON.toJsonTree(facts));
    layout.writeText(manifest(step), GSON.toJson(m));
  }

  /** Forgets a step (its outputs are about to be rewritten). */
  public void invalidate(String step) {
    layout.delete(manifest(step));
  }

  /** SHA-256 of the parts, hex: the fingerprint of a step's inputs. */
  public static String fingerprint(Object... parts) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (Object p : parts) {
        sha.update(String.valueOf(p).getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      return HexFormat.of().formatHex(sha.digest()).substring(0, 24);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
