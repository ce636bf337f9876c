package qdm.model;

import java.util.Locale;

/**
 * The rotary inverse frequencies of transformers' {@code ROPE_INIT_FUNCTIONS} (v4.45), in float32
 * as it computes them: {@code default}, {@code linear} (all frequencies / factor), {@code dynamic}
 * (NTK-aware: the base grows once a sequence is longer than {@code max_position_embeddings}) and
 * {@code llama3} (Llama 3.1: low frequencies / factor, high ones kept, a smooth blend between).
 * Every type here has attention scaling 1.
 *
 * @param type {@code default}, {@code linear}, {@code dynamic} or {@code llama3}
 * @param factor the scaling factor (1 for default)
 * @param lowFreqFactor llama3's {@code low_freq_factor}
 * @param highFreqFactor llama3's {@code high_freq_factor}
 * @param originalContext llama3's {@code original_max_position_embeddings}
 * @param maxPositions {@code max_position_embeddings} (dynamic)
 */
public record RopeScaling(
    String type,
    double factor,
    double lowFreqFactor,
    double highFreqFactor,
    int originalContext,
    int maxPositions) {

  /** The types this class computes. */
  public static final String SUPPORTED = "default, linear, dynamic, llama3";

  /** No scaling. */
  public static RopeScaling none() {
    return new RopeScaling("default", 1, 0, 0, 0, 0);
  }

  /** The {@code rope_scaling} object of a config.json (absent or null: none). */
  public static RopeScaling parse(JsonFields config) {
    if (!config.has("rope_scaling")) {
      return none();
    }
    JsonFields s = config.object("rope_scaling");
    String type = s.string("rope_type", s.string("type", "default")).toLowerCase(Locale.ROOT);
    int maxPos = config.integer("max_position_embeddings", 2048);
    return switch (type) {
      case "default" -> none();
      case "linear", "dynamic" -> new RopeScaling(type, positive(s, "factor"), 0, 0, 0, maxPos);
      case "llama3" ->
          new RopeScaling(
              type,
              positive(s, "factor"),
              s.number("low_freq_factor"),
              s.number("high_freq_factor"),
              s.integer("original_max_position_embeddings"),
              maxPos);
      default ->
          throw config.invalid(
              "rope_scaling",
              "a rope_type QDM implements (" + SUPPORTED + "); '" + type + "' is not");
    };
  }

  private static double positive(JsonFields s, String key) {
    double v = s.number(key);
    if (!(v > 0)) {
      throw s.invalid(key, "a positive number");
    }
    return v;
  }

  /** True when the frequencies depend on the sequence length (dynamic NTK). */
  public boolean dependsOnLength() {
    return type.equals("dynamic");
  }

  /**
   * The inverse frequencies of {@code dims} rotary dimensions (dims / 2 values) with base {@code
   * theta}, for a sequence of {@code seqLen} tokens.
   */
  public float[] invFreq(int dims, double theta, int seqLen) {
    double base = theta;
    if (type.equals("dynamic") && seqLen > maxPositions) {
      base =
          theta
              * Math.pow(factor * seqLen / maxPositions - (factor - 1), (double) dims / (dims - 2));
    }
    float[] f = defaults(dims, base);
    switch (type) {
      case "linear" -> {
        for (int j = 0; j < f.length; j++) {
          f[j] = (float) (f[j] / (float) factor);
        }
      }
      case "llama3" -> llama3(f);
      default -> {}
    }
    return f;
  }

  /** {@code 1 / base^(2j / dims)}, as transformers computes it in float32. */
  static float[] defaults(int dims, double base) {
    float[] f = new float[dims / 2];
    for (int j = 0; j < f.length; j++) {
      float exponent = (float) (2 * j) / dims;
      f[j] = (float) (1.0 / (float) Math.pow(base, exponent));
    }
    return f;
  }

  private void llama3(float[] f) {
    float fac = (float) factor;
    float low = (float) lowFreqFactor;
    float high = (float) highFreqFactor;
    float old = originalContext;
    float lowWavelen = (float) (originalContext / lowFreqFactor);
    float highWavelen = (float) (originalContext / highFreqFactor);
    for (int j = 0; j < f.length; j++) {
      float wavelen = (float) (2 * Math.PI) / f[j];
      float scaled = wavelen > lowWavelen ? f[j] / fac : f[j];
      boolean medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
      if (medium) {
        float smooth = (old / wavelen - low) / (high - low);
        scaled = (1 - smooth) * scaled / fac + smooth * scaled;
      }
      f[j] = scaled;
    }
  }
}
