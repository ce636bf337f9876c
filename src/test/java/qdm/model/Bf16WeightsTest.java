package qdm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import qdm.cli.Main;
import qdm.io.DType;
import qdm.io.HostTensor;
import qdm.io.SafetensorsFile;
import qdm.io.SafetensorsWriter;
import qdm.testing.HalfFloats;
import qdm.testing.Reference;

/**
 * A BF16 copy of a reference model, made here, through the {@code forward} command's code path.
 *
 * <p>Oracle: the same weights rounded to bfloat16 in the test (by the independent {@link
 * HalfFloats} oracle) and stored as F32 give the same outputs to 1e-5, so the BF16 file is read as
 * exactly those values; and both stay within a loose bound of the F32 expectation, since bfloat16's
 * 8-bit significand moves the outputs (F16 moves logits by about 1e-2).
 */
class Bf16WeightsTest {
  /** Same weight values, different file dtype: only summation order could differ. */
  static final double SAME_VALUES = 1e-5;

  /** BF16 rounding against the F32 Hugging Face outputs. */
  static final double BF16_VS_F32 = 0.25;

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"neox", "gemma2"})
  void bf16FileMatchesWeightsRoundedInJava(String model) {
    Path dir = Reference.model(model);
    Path bf16 = tmp.resolve("model-bf16.safetensors");
    Path rounded = tmp.resolve("model-rounded-f32.safetensors");
    SafetensorsWriter asBf16 = new SafetensorsWriter();
    SafetensorsWriter asRounded = new SafetensorsWriter();
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
      for (String name : f.names()) {
        float[] w = f.readFloats(name);
        asBf16.add(name, new HostTensor(f.info(name).shape(), w));
        float[] r = new float[w.length];
        for (int i = 0; i < w.length; i++) {
          r[i] = HalfFloats.roundBf16(w[i]);
        }
        asRounded.add(name, new HostTensor(f.info(name).shape(), r));
      }
    }
    asBf16.write(bf16, DType.BF16);
    asRounded.write(rounded, DType.F32);
    try (SafetensorsFile f = SafetensorsFile.open(bf16)) {
      assertTrue(f.tensors().values().stream().allMatch(t -> t.dtype() == DType.BF16));
    }

    Path outBf16 = forward(dir, bf16, "out-bf16.safetensors");
    Path outRounded = forward(dir, rounded, "out-rounded.safetensors");
    Path expected = dir.resolve("expected.safetensors");
    try (SafetensorsFile e = SafetensorsFile.open(expected)) {
      for (String name : e.names()) {
        HostTensor fromBf16 = Reference.read(outBf16, name);
        Reference.assertClose(Reference.read(outRounded, name), fromBf16, SAME_VALUES, name);
        Reference.assertClose(
            Reference.read(expected, name),
            fromBf16,
            BF16_VS_F32,
            name + " vs the F32 expectation");
      }
      // the rounding matters: the BF16 outputs are not the F32 ones
      double moved =
          Reference.maxAbsDiff(
              Reference.read(expected, "logits"), Reference.read(outBf16, "logits"));
      assertTrue(moved > 1e-4, "bf16 rounding moved the logits by only " + moved);
    }
  }

  private Path forward(Path dir, Path weights, String outName) {
    Path out = tmp.resolve(outName);
    int code =
        Main.run(
            "forward",
            "--model",
            dir.toString(),
            "--weights",
            weights.toString(),
            "--input-ids",
            dir.resolve("inputs.json").toString(),
            "--out",
            out.toString());
    assertEquals(0, code);
    return out;
  }
}
