package qdm.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import qdm.condition.Condition;
import qdm.io.SafetensorsFile;
import qdm.model.Placement;
import qdm.model.Processing;
import qdm.probe.ForwardOutput;
import qdm.probe.ForwardProbe;
import qdm.probe.ForwardRequest;
import qdm.sae.SaeFormat;
import qdm.tokenize.Tokenizer;

/**
 * The shipped demo SAE meets the bar on text it never saw: on held-out stories, an
 * independent float64 TopK SAE (encode, keep the 32 largest, ReLU, decode) over QDM's residual
 * stream gives the same codes as the audit's SAE and explains at least 85 % of the variance.
 */
class DemoSaeTest {
  static final Path MODEL = Path.of("assets/demo/stories15M");
  static final Path SAE = Path.of("assets/demo/sae");
  static final int WINDOWS = 6;
  static final int CONTEXT = 256;

  @Test
  void heldOutFvuAndL0MeetTheTargetAndCodesMatchANaiveTopK() throws Exception {
    JsonObject cfg =
        JsonParser.parseString(Files.readString(SAE.resolve("cfg.json"))).getAsJsonObject();
    assertEquals("topk", cfg.get("architecture").getAsString());
    assertEquals("blocks.3.hook_resid_post", cfg.get("hook_name").getAsString());
    int dIn = cfg.get("d_in").getAsInt();
    int dSae = cfg.get("d_sae").getAsInt();
    int k = cfg.get("k").getAsInt();
    assertEquals(288, dIn);
    assertEquals(16 * dIn, dSae);

    // the last stories of heldout.txt (the audit's text, never the SAE's), as the audit joins them
    String text =
        Files.readString(MODEL.resolveSibling("corpus/heldout.txt"), StandardCharsets.UTF_8);
    String tail = text.substring(text.length() - 40_000);
    tail = tail.substring(tail.indexOf("\n\n") + 2);
    long[] stream;
    try (Tokenizer tokenizer = Tokenizer.load(MODEL.resolve("tokenizer.json"))) {
      stream = tokenizer.encode(tail);
    }
    assertTrue(stream.length >= WINDOWS * CONTEXT, "only " + stream.length + " tokens");
    long[][] ids = new long[WINDOWS][CONTEXT];
    for (int w = 0; w < WINDOWS; w++) {
      System.arraycopy(stream, w * CONTEXT, ids[w], 0, CONTEXT);
    }
    ForwardOutput out =
        ForwardProbe.run(
            new ForwardRequest(
                MODEL,
                Optional.empty(),
                ids,
                Placement.CPU,
                Processing.NONE,
                new Condition.Reference("fp"),
                Optional.of(
                    new ForwardRequest.SaeSelection(SAE, SaeFormat.AUTO, Optional.empty()))));
    float[] x = out.get("hidden_states.4").data(); // blocks.3.hook_resid_post
    float[] qdmCodes = out.get("sae_acts").data();
    int rows = WINDOWS * CONTEXT;

    double[] wEnc = read(SAE, "W_enc", dIn * dSae);
    double[] bEnc = read(SAE, "b_enc", dSae);
    double[] wDec = read(SAE, "W_dec", dSae * dIn);
    double[] bDec = read(SAE, "b_dec", dIn);

    double[] mean = new double[dIn];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < dIn; j++) {
        mean[j] += x[r * dIn + j] / (double) rows;
      }
    }
    double residual = 0;
    double variance = 0;
    long firing = 0;
    double worstCode = 0;
    double[] pre = new double[dSae];
    for (int r = 0; r < rows; r++) {
      java.util.Arrays.fill(pre, 0);
      for (int j = 0; j < dIn; j++) {
        double centred = x[r * dIn + j] - bDec[j];
        for (int f = 0; f < dSae; f++) {
          pre[f] += centred * wEnc[j * dSae + f];
        }
      }
      for (int f = 0; f < dSae; f++) {
        pre[f] += bEnc[f];
      }
      double kth = kthLargest(pre, k);
      double[] recon = bDec.clone();
      for (int f = 0; f < dSae; f++) {
        double code = pre[f] >= kth ? Math.max(pre[f], 0) : 0;
        worstCode = Math.max(worstCode, Math.abs(code - qdmCodes[r * dSae + f]));
        if (code > 0) {
          firing++;
          for (int j = 0; j < dIn; j++) {
            recon[j] += code * wDec[f * dIn + j];
          }
        }
      }
      for (int j = 0; j < dIn; j++) {
        double e = x[r * dIn + j] - recon[j];
        double c = x[r * dIn + j] - mean[j];
        residual += e * e;
        variance += c * c;
      }
    }
    double fvu = residual / variance;
    double l0 = (double) firing / rows;
    assertTrue(worstCode < 1e-3, "codes differ from the naive TopK by up to " + worstCode);
    assertTrue(fvu <= 0.15, "held-out FVU " + fvu);
    assertTrue(l0 >= 16 && l0 <= 64, "held-out L0 " + l0);
  }

  private static double[] read(Path sae, String name, int size) {
    try (SafetensorsFile f = SafetensorsFile.open(sae.resolve("sae_weights.safetensors"))) {
      float[] v = new float[size];
      f.readFloats(name, 0, v, 0, size);
      double[] d = new double[size];
      for (int i = 0; i < size; i++) {
        d[i] = v[i];
      }
      return d;
    }
  }

  private static double kthLargest(double[] values, int k) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    return sorted[sorted.length - k];
  }
}
