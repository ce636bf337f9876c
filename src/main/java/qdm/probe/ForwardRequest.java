package qdm.probe;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Optional;
import qdm.QdmException;
import qdm.condition.Condition;
import qdm.model.JsonFields;
import qdm.model.ModelFiles;
import qdm.model.Placement;
import qdm.model.Processing;
import qdm.sae.SaeFormat;

/**
 * One {@code qdm forward} invocation: which model and weights, which token ids, where to run, and
 * the condition whose weights the pass uses.
 *
 * @param inputIds [B][T] token ids, all rows the same length
 * @param processing applied to the weights at load, before the compression
 * @param condition the reference, or a simulated compression of the loaded weights
 */
public record ForwardRequest(
    Path modelDir,
    Optional<Path> weights,
    long[][] inputIds,
    Placement placement,
    Processing processing,
    Condition condition,
    Optional<SaeSelection> sae,
    Optional<String> format) {

  /** An SAE to encode the residual stream at its hook with (output {@code sae_acts}). */
  public record SaeSelection(Path path, SaeFormat format, Optional<String> hook) {}

  /** A request whose weights' format is detected. */
  public ForwardRequest(
      Path modelDir,
      Optional<Path> weights,
      long[][] inputIds,
      Placement placement,
      Processing processing,
      Condition condition,
      Optional<SaeSelection> sae) {
    this(modelDir, weights, inputIds, placement, processing, condition, sae, Optional.empty());
  }

  public ForwardRequest {
    if (condition == null) {
      throw new IllegalArgumentException("condition is required (a Reference for none)");
    }
    if (inputIds.length == 0 || inputIds[0].length == 0) {
      throw new QdmException("input_ids must hold at least one non-empty row");
    }
    for (long[] row : inputIds) {
      if (row.length != inputIds[0].length) {
        throw new QdmException(
            "input_ids rows must all have the same length (got "
                + inputIds[0].length
                + " and "
                + row.length
                + ")");
      }
    }
  }

  public ModelFiles files() {
    return new ModelFiles(modelDir, weights, format);
  }

  /** Reads {@code {"input_ids": [[...], ...]}}; a flat list is one row. */
  public static long[][] readInputIds(Path file) {
    JsonFields json = JsonFields.read(file);
    if (!json.has("input_ids") || !json.json().get("input_ids").isJsonArray()) {
      throw new QdmException(file + ": key 'input_ids' is missing or not an array");
    }
    JsonArray rows = json.json().getAsJsonArray("input_ids");
    if (rows.size() > 0 && rows.get(0).isJsonPrimitive()) {
      JsonArray wrapped = new JsonArray();
      wrapped.add(rows);
      rows = wrapped;
    }
    long[][] ids = new long[rows.size()][];
    for (int b = 0; b < ids.length; b++) {
      JsonElement row = rows.get(b);
      if (!row.isJsonArray()) {
        throw new QdmException(file + ": input_ids[" + b + "] is not an array of token ids");
      }
      JsonArray r = row.getAsJsonArray();
      ids[b] = new long[r.size()];
      for (int t = 0; t < r.size(); t++) {
        ids[b][t] = tokenId(file, b, t, r.get(t));
      }
    }
    return ids;
  }

  /**
   * One token id: a JSON number with an integral value ({@code 7} or {@code 7.0}); {@code 2.5},
   * {@code "7"}, {@code true} or {@code 1e30} are refused rather than truncated or parsed.
   */
  private static long tokenId(Path file, int row, int column, JsonElement v) {
    String where =
        file + ": input_ids[" + row + "][" + column + "] (row " + row + ", column " + column + ")";
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
      throw new QdmException(where + " is " + v + ", expected an integer token id");
    }
    BigDecimal d;
    try {
      d = v.getAsBigDecimal();
    } catch (NumberFormatException e) {
      throw new QdmException(where + " is " + v + ", expected an integer token id");
    }
    try {
      return d.longValueExact();
    } catch (ArithmeticException e) {
      throw new QdmException(
          where
              + " is "
              + v
              + ", expected an integer token id (not a "
              + "fraction, nor beyond 64 bits)");
    }
  }
}
