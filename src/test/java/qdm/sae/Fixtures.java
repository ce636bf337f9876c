package qdm.sae;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import qdm.io.HostTensor;
import qdm.io.SafetensorsWriter;
import qdm.testing.Reference;

/**
 * Tiny SAEs for the tests: weights from an integer hash (the same formula as {@code
 * src/test/resources/sae/make_fixtures.py}, so NumPy-written files can be checked against values
 * computed here), and writers for SAELens and sparsify directories.
 */
final class Fixtures {
  static final int D_IN = 64;
  static final int D_SAE = 256;

  private Fixtures() {}

  /** The fixture value of element {@code i} for {@code seed}: a multiple of 1/4096 in ±0.244. */
  static float value(long i, int seed) {
    long h = (i * 2654435761L + seed * 97531L) & 0xFFFFFFFFL;
    h ^= h >>> 15;
    return (float) (((h % 2001) - 1000) / 4096.0);
  }

  static float[] values(int n, int seed) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = value(i, seed);
    }
    return v;
  }

  /** An SAE's weights on the host, SAELens layout: W_enc [dIn, dSae], W_dec [dSae, dIn]. */
  record Weights(
      int dIn,
      int dSae,
      float[] wEnc,
      float[] bEnc,
      float[] wDec,
      float[] bDec,
      float[] threshold) {}

  /** The weights of the Gemma Scope fixture (seeds 1 to 5), for any shape. */
  static Weights weights(int dIn, int dSae) {
    return new Weights(
        dIn,
        dSae,
        values(dIn * dSae, 1),
        values(dSae, 3),
        values(dSae * dIn, 2),
        values(dIn, 4),
        values(dSae, 5));
  }

  /** The src/test/resources/sae folder. */
  static Path resources() {
    return Reference.dir().resolveSibling("sae");
  }

  /** Inputs [n, dIn]: fixture values (seed 9) scaled by {@code scale}. */
  static float[] inputs(int n, int dIn, float scale) {
    float[] x = values(n * dIn, 9);
    for (int i = 0; i < x.length; i++) {
      x[i] *= scale;
    }
    return x;
  }

  /** Writes an SAELens directory: cfg.json and sae_weights.safetensors (threshold if given). */
  static Path writeSaeLens(Path dir, Weights w, String cfgJson, boolean withThreshold) {
    SafetensorsWriter st =
        new SafetensorsWriter()
            .add("W_enc", new HostTensor(new long[] {w.dIn(), w.dSae()}, w.wEnc()))
            .add("b_enc", new HostTensor(new long[] {w.dSae()}, w.bEnc()))
            .add("W_dec", new HostTensor(new long[] {w.dSae(), w.dIn()}, w.wDec()))
            .add("b_dec", new HostTensor(new long[] {w.dIn()}, w.bDec()));
    if (withThreshold) {
      st.add("threshold", new HostTensor(new long[] {w.dSae()}, w.threshold()));
    }
    st.write(dir.resolve("sae_weights.safetensors"));
    writeJson(dir.resolve("cfg.json"), cfgJson);
    return dir;
  }

  /** Writes a sparsify directory: encoder.weight is W_enc transposed, as torch.nn.Linear has it. */
  static Path writeSparsify(Path dir, Weights w, String cfgJson) {
    float[] encoder = new float[w.wEnc().length];
    for (int i = 0; i < w.dIn(); i++) {
      for (int f = 0; f < w.dSae(); f++) {
        encoder[f * w.dIn() + i] = w.wEnc()[i * w.dSae() + f];
      }
    }
    new SafetensorsWriter()
        .add("encoder.weight", new HostTensor(new long[] {w.dSae(), w.dIn()}, encoder))
        .add("encoder.bias", new HostTensor(new long[] {w.dSae()}, w.bEnc()))
        .add("W_dec", new HostTensor(new long[] {w.dSae(), w.dIn()}, w.wDec()))
        .add("b_dec", new HostTensor(new long[] {w.dIn()}, w.bDec()))
        .write(dir.resolve("sae.safetensors"));
    writeJson(dir.resolve("cfg.json"), cfgJson);
    return dir;
  }

  /** Writes JSON after checking it parses (single quotes allowed in the source for brevity). */
  static void writeJson(Path file, String json) {
    String text = json.replace('\'', '"');
    JsonObject parsed = JsonParser.parseString(text).getAsJsonObject();
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, parsed.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A SAELens 6 config (nested metadata). */
  static String saeLensV6(String architecture, String extra) {
    return "{'architecture': '"
        + architecture
        + "', 'd_in': "
        + D_IN
        + ", 'd_sae': "
        + D_SAE
        + ", 'dtype': 'float32', 'device': 'cpu', 'apply_b_dec_to_input': true,"
        + " 'normalize_activations': 'none', 'reshape_activations': 'none',"
        + " 'metadata': {'model_name': 'pythia-70m-deduped', 'hook_name':"
        + " 'blocks.1.hook_resid_post', 'hook_head_index': null, 'prepend_bos': true,"
        + " 'sae_lens_version': '6.5.1'}"
        + extra
        + "}";
  }

  /** An older flat SAELens config. */
  static String saeLensFlat(String architecture, String activationFn, String extra) {
    return "{'architecture': '"
        + architecture
        + "', 'd_in': "
        + D_IN
        + ", 'd_sae': "
        + D_SAE
        + ", 'dtype': 'float32', 'device': 'cpu', 'model_name': 'pythia-70m-deduped',"
        + " 'hook_point': 'blocks.1.hook_resid_post', 'hook_point_layer': 1,"
        + " 'hook_point_head_index': null, 'activation_fn_str': '"
        + activationFn
        + "',"
        + " 'apply_b_dec_to_input': true, 'finetuning_scaling_factor': false,"
        + " 'context_size': 128, 'normalize_activations': 'none'"
        + extra
        + "}";
  }
}
