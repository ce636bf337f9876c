package qdm.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import qdm.io.HostTensor;
import qdm.io.SafetensorsWriter;
import qdm.model.HookPoint;
import qdm.model.TorchEngine;

/**
 * Every architecture in every format and config layout against {@link NaiveSae}: dense codes,
 * sparse codes (exactly the dense non-zeros), decoding, and the L0 / FVU figures.
 */
class SaeEncodeTest {
  static final int TOKENS = 24;
  static NDManager root;

  @TempDir static Path tmp;

  @BeforeAll
  static void engine() {
    root = TorchEngine.newManager(Device.cpu());
  }

  @AfterAll
  static void close() {
    root.close();
  }

  /** One SAE on disk and the oracle it must agree with. */
  record Case(String name, Path path, SaeFormat format, String architecture, NaiveSae oracle) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Fixtures.Weights w() {
    return Fixtures.weights(Fixtures.D_IN, Fixtures.D_SAE);
  }

  static Path dir(String name) {
    try {
      return Files.createDirectories(tmp.resolve(name));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static Stream<Case> cases() {
    Fixtures.Weights w = w();
    List<Case> c = new ArrayList<>();
    c.add(
        new Case(
            "saelens v6 standard",
            Fixtures.writeSaeLens(dir("v6-standard"), w, Fixtures.saeLensV6("standard", ""), false),
            SaeFormat.SAELENS,
            "standard",
            new NaiveSae("standard", w, true, 0, 1)));
    c.add(
        new Case(
            "saelens v6 jumprelu",
            Fixtures.writeSaeLens(dir("v6-jumprelu"), w, Fixtures.saeLensV6("jumprelu", ""), true),
            SaeFormat.SAELENS,
            "jumprelu",
            new NaiveSae("jumprelu", w, true, 0, 1)));
    c.add(
        new Case(
            "saelens v6 topk",
            Fixtures.writeSaeLens(
                dir("v6-topk"), w, Fixtures.saeLensV6("topk", ", 'k': 16"), false),
            SaeFormat.SAELENS,
            "topk",
            new NaiveSae("topk", w, true, 16, 1)));
    c.add(
        new Case(
            "saelens v6 without b_dec on input",
            Fixtures.writeSaeLens(
                dir("v6-nobdec"),
                w,
                Fixtures.saeLensV6("standard", "")
                    .replace("'apply_b_dec_to_input': true", "'apply_b_dec_to_input': false"),
                false),
            SaeFormat.SAELENS,
            "standard",
            new NaiveSae("standard", w, false, 0, 1)));
    c.add(
        new Case(
            "saelens flat standard",
            Fixtures.writeSaeLens(
                dir("flat-standard"), w, Fixtures.saeLensFlat("standard", "relu", ""), false),
            SaeFormat.SAELENS,
            "standard",
            new NaiveSae("standard", w, true, 0, 1)));
    c.add(
        new Case(
            "saelens flat jumprelu",
            Fixtures.writeSaeLens(
                dir("flat-jumprelu"), w, Fixtures.saeLensFlat("jumprelu", "relu", ""), true),
            SaeFormat.SAELENS,
            "jumprelu",
            new NaiveSae("jumprelu", w, true, 0, 1)));
    c.add(
        new Case(
            "saelens flat topk",
            Fixtures.writeSaeLens(
                dir("flat-topk"),
                w,
                Fixtures.saeLensFlat("standard", "topk", ", 'activation_fn_kwargs': {'k': 24}"),
                false),
            SaeFormat.SAELENS,
            "topk",
            new NaiveSae("topk", w, true, 24, 1)));

    // expected_average_only_in: the factor from activation_scaler.json, then from the config
    Path scaled =
        Fixtures.writeSaeLens(
            dir("v6-scaled"),
            w,
            Fixtures.saeLensV6("jumprelu", "")
                .replace(
                    "'normalize_activations': 'none'",
                    "'normalize_activations': 'expected_average_only_in'"),
            true);
    Fixtures.writeJson(scaled.resolve("activation_scaler.json"), "{'scaling_factor': 2.5}");
    c.add(
        new Case(
            "saelens expected_average_only_in (activation_scaler.json)",
            scaled,
            SaeFormat.SAELENS,
            "jumprelu",
            new NaiveSae("jumprelu", w, true, 0, 2.5)));
    c.add(
        new Case(
            "saelens expected_average_only_in (old boolean, norm_scaling_factor)",
            Fixtures.writeSaeLens(
                dir("flat-scaled"),
                w,
                Fixtures.saeLensFlat("standard", "relu", ", 'norm_scaling_factor': 0.5")
                    .replace("'normalize_activations': 'none'", "'normalize_activations': true"),
                false),
            SaeFormat.SAELENS,
            "standard",
            new NaiveSae("standard", w, true, 0, 0.5)));

    // the fine-tuning scale multiplies activations before decoding: the oracle gets W_dec rows
    // scaled by it, (acts * s) W_dec = acts (diag(s) W_dec)
    float[] s = Fixtures.values(Fixtures.D_SAE, 6);
    float[] scaledDec = w.wDec().clone();
    for (int f = 0; f < Fixtures.D_SAE; f++) {
      s[f] += 1;
      for (int j = 0; j < Fixtures.D_IN; j++) {
        scaledDec[f * Fixtures.D_IN + j] *= s[f];
      }
    }
    Path tuned = dir("flat-finetuned");
    Fixtures.writeSaeLens(
        tuned,
        w,
        Fixtures.saeLensFlat("standard", "relu", "")
            .replace("'finetuning_scaling_factor': false", "'finetuning_scaling_factor': true"),
        false);
    addTensor(tuned.resolve("sae_weights.safetensors"), w, "scaling_factor", s);
    Fixtures.Weights oracleWeights =
        new Fixtures.Weights(
            w.dIn(), w.dSae(), w.wEnc(), w.bEnc(), scaledDec, w.bDec(), w.threshold());
    c.add(
        new Case(
            "saelens fine-tuning scaling factor",
            tuned,
            SaeFormat.SAELENS,
            "standard",
            new NaiveSae("standard", oracleWeights, true, 0, 1)));

    c.add(
        new Case(
            "gemma scope params.npz (stored)",
            Fixtures.resources().resolve("gemmascope/layer_1/width_256/params.npz"),
            SaeFormat.GEMMASCOPE,
            "jumprelu",
            new NaiveSae("jumprelu", w, false, 0, 1)));
    c.add(
        new Case(
            "gemma scope directory (deflated npz)",
            Fixtures.resources().resolve("gemmascope-compressed/layer_1/width_256"),
            SaeFormat.GEMMASCOPE,
            "jumprelu",
            new NaiveSae("jumprelu", w, false, 0, 1)));
    c.add(
        new Case(
            "sparsify",
            Fixtures.writeSparsify(
                dir("sparsify").resolve("layers.1"),
                w,
                "{'activation': 'topk', 'expansion_factor': 32, 'normalize_decoder': true,"
                    + " 'num_latents': 256, 'k': 16, 'multi_topk': false, 'skip_connection': false,"
                    + " 'transcode': false, 'd_in': 64}"),
            SaeFormat.SPARSIFY,
            "topk",
            new NaiveSae("topk", w, true, 16, 1)));
    c.add(
        new Case(
            "sparsify, old config without d_in",
            Fixtures.writeSparsify(
                dir("sparsify-old").resolve("gpt_neox.layers.1"),
                w,
                "{'expansion_factor': 4, 'normalize_decoder': true, 'num_latents': 0, 'k': 8}"),
            SaeFormat.SPARSIFY,
            "topk",
            new NaiveSae("topk", w, true, 8, 1)));
    return c.stream();
  }

  static Stream<Arguments> casesAndFormats() {
    return cases()
        .flatMap(c -> Stream.of(Arguments.of(c, c.format()), Arguments.of(c, SaeFormat.AUTO)));
  }

  static void addTensor(Path file, Fixtures.Weights w, String name, float[] data) {
    new SafetensorsWriter()
        .add("W_enc", new HostTensor(new long[] {w.dIn(), w.dSae()}, w.wEnc()))
        .add("b_enc", new HostTensor(new long[] {w.dSae()}, w.bEnc()))
        .add("W_dec", new HostTensor(new long[] {w.dSae(), w.dIn()}, w.wDec()))
        .add("b_dec", new HostTensor(new long[] {w.dIn()}, w.bDec()))
        .add(name, new HostTensor(new long[] {data.length}, data))
        .write(file);
  }

  @ParameterizedTest(name = "{0} as {1}")
  @MethodSource("casesAndFormats")
  void readsTheConfig(Case c, SaeFormat format) {
    SaeConfig config = Sae.readConfig(c.path(), format, Optional.empty());
    assertEquals(c.format(), config.format());
    assertEquals(c.architecture(), config.architecture());
    assertEquals(Fixtures.D_IN, config.dIn());
    assertEquals(Fixtures.D_SAE, config.dSae());
    assertEquals(HookPoint.residPost(1), config.hook());
    assertEquals(c.oracle().applyBDec(), config.applyBDecToInput());
    assertEquals(c.oracle().scale(), config.inputScale(), 0);
    if (c.architecture().equals("topk")) {
      assertEquals(c.oracle().k(), config.k().getAsInt());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void encodesLikeTheNaiveComputation(Case c) {
    float[] x = Fixtures.inputs(TOKENS, Fixtures.D_IN, 1f);
    NaiveSae.Codes expected = c.oracle().encode(x, TOKENS);
    try (Sae sae = Sae.load(c.path(), SaeFormat.AUTO, Optional.empty(), root);
        NDManager batch = root.newSubManager()) {
      NDArray input = batch.create(x, new Shape(TOKENS, Fixtures.D_IN));
      float[] dense = sae.encode(input).toFloatArray();
      int firing = NaiveSae.assertMatches(expected, dense);
      assertTrue(firing > TOKENS && firing < dense.length / 2, firing + " active entries");

      // sparse codes: exactly the non-zeros of the dense codes, in token-then-feature order
      SparseCodes codes = sae.encodeSparse(input);
      assertEquals(nonZeros(dense, TOKENS, Fixtures.D_SAE), codes);
      if (c.architecture().equals("topk")) {
        for (int t = 0; t < TOKENS; t++) {
          int tt = t;
          long n = java.util.Arrays.stream(codes.token()).filter(v -> v == tt).count();
          assertTrue(n <= c.oracle().k(), "token " + t + " has " + n + " > k features");
        }
      }

      // decoding the SAE's own codes, against the naive decoder
      double[] actsD = new double[dense.length];
      for (int i = 0; i < dense.length; i++) {
        actsD[i] = dense[i];
      }
      double[] xHat = c.oracle().decode(actsD, TOKENS);
      float[] decoded =
          sae.decode(batch.create(dense, new Shape(TOKENS, Fixtures.D_SAE))).toFloatArray();
      for (int i = 0; i < xHat.length; i++) {
        assertEquals(xHat[i], decoded[i], 1e-4 * Math.max(1, Math.abs(xHat[i])), "x_hat " + i);
      }

      // figures: L0 = mean non-zeros per token, FVU = sum |x - x_hat|^2 / sum |x - mean|^2
      EncodedBatch encoded = sae.encodeBatch(input);
      assertEquals(codes, encoded.codes());
      assertEquals((double) codes.size() / TOKENS, encoded.figures().l0(), 1e-12);
      double fvu = naiveFvu(x, xHat, TOKENS, Fixtures.D_IN);
      assertEquals(fvu, encoded.figures().fvu(), 1e-4 * fvu);
      Reconstruction again =
          sae.reconstruction(input, batch.create(dense, new Shape(TOKENS, Fixtures.D_SAE)));
      assertEquals(encoded.figures().nonZeros(), again.nonZeros());
      assertEquals(fvu, again.fvu(), 1e-4 * fvu);
    }
  }

  static void assertClose(SparseCodes expected, SparseCodes actual) {
    assertEquals(expected.tokens(), actual.tokens());
    assertArrayEquals(expected.token(), actual.token());
    assertArrayEquals(expected.feature(), actual.feature());
    assertArrayEquals(expected.activation(), actual.activation(), 1e-5f);
  }

  /** The sparse codes of dense activations, computed in Java. */
  static SparseCodes nonZeros(float[] dense, int tokens, int dSae) {
    List<int[]> at = new ArrayList<>();
    for (int j = 0; j < dense.length; j++) {
      if (dense[j] != 0) {
        at.add(new int[] {j / dSae, j % dSae});
      }
    }
    int[] token = at.stream().mapToInt(a -> a[0]).toArray();
    int[] feature = at.stream().mapToInt(a -> a[1]).toArray();
    float[] act = new float[at.size()];
    for (int i = 0; i < act.length; i++) {
      act[i] = dense[token[i] * dSae + feature[i]];
    }
    return new SparseCodes(tokens, dSae, token, feature, act);
  }

  static double naiveFvu(float[] x, double[] xHat, int n, int d) {
    double error = 0;
    double variance = 0;
    for (int j = 0; j < d; j++) {
      double mean = 0;
      for (int t = 0; t < n; t++) {
        mean += x[t * d + j];
      }
      mean /= n;
      for (int t = 0; t < n; t++) {
        double v = x[t * d + j];
        error += (v - xHat[t * d + j]) * (v - xHat[t * d + j]);
        variance += (v - mean) * (v - mean);
      }
    }
    return error / variance;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void chunkedBatchesGiveTheSameCodes(Case c) {
    try (Sae sae = Sae.load(c.path(), SaeFormat.AUTO, Optional.empty(), root);
        NDManager batch = root.newSubManager()) {
      NDArray input =
          batch.create(
              Fixtures.inputs(TOKENS, Fixtures.D_IN, 1f), new Shape(TOKENS, Fixtures.D_IN));
      SparseCodes whole = sae.encodeSparse(input);
      EncodedBatch wholeBatch = sae.encodeBatch(input);
      sae.chunkElements(5L * Fixtures.D_SAE); // 5 tokens at a time: 4 chunks of 5 and one of 4
      // GEMM kernels differ with the number of rows: equal up to float32 rounding
      assertClose(whole, sae.encodeSparse(input));
      EncodedBatch chunked = sae.encodeBatch(input);
      assertClose(wholeBatch.codes(), chunked.codes());
      assertEquals(
          wholeBatch.figures().fvu(),
          chunked.figures().fvu(),
          1e-6 * wholeBatch.figures().fvu()); // float32 sums in another order
      assertEquals(0, sae.encodeSparse(batch.zeros(new Shape(0, Fixtures.D_IN))).tokens());
    }
  }

  @Test
  void castsToFloat32AndKeepsLeadingDimensions() {
    Case c = cases().filter(k -> k.name().equals("saelens v6 jumprelu")).findFirst().orElseThrow();
    try (Sae sae = Sae.load(c.path(), SaeFormat.AUTO, Optional.empty(), root);
        NDManager batch = root.newSubManager()) {
      float[] x = Fixtures.inputs(TOKENS, Fixtures.D_IN, 1f);
      NDArray half =
          batch.create(x, new Shape(2, TOKENS / 2, Fixtures.D_IN)).toType(DataType.FLOAT16, false);
      NDArray widened = half.toType(DataType.FLOAT32, false);
      NDArray acts = sae.encode(half);
      assertEquals(new Shape(2, TOKENS / 2, Fixtures.D_SAE), acts.getShape());
      assertEquals(DataType.FLOAT32, acts.getDataType());
      assertArrayEquals(sae.encode(widened).toFloatArray(), acts.toFloatArray());
      // sparse codes of [B, T, d_in] number the tokens row-major
      SparseCodes codes = sae.encodeSparse(half);
      assertEquals(nonZeros(acts.toFloatArray(), TOKENS, Fixtures.D_SAE), codes);
    }
  }

  @Test
  void batchResultsOutliveNothingButTheirBatch() {
    Case c = cases().filter(k -> k.name().equals("saelens v6 topk")).findFirst().orElseThrow();
    try (Sae sae = Sae.load(c.path(), SaeFormat.AUTO, Optional.empty(), root)) {
      NDManager batch = root.newSubManager();
      NDArray input =
          batch.create(
              Fixtures.inputs(TOKENS, Fixtures.D_IN, 1f), new Shape(TOKENS, Fixtures.D_IN));
      NDArray acts = sae.encode(input);
      sae.encodeBatch(input);
      assertEquals(batch, acts.getManager());
      batch.close();
      // the weights survive the batch; the SAE still encodes
      try (NDManager next = root.newSubManager()) {
        Function<NDManager, NDArray> in =
            m -> m.create(Fixtures.inputs(2, Fixtures.D_IN, 1f), new Shape(2, Fixtures.D_IN));
        assertEquals(2, sae.encodeSparse(in.apply(next)).tokens());
      }
    }
  }
}
