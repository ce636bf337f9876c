package qdm.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import qdm.cli.Main;
import qdm.io.SafetensorsFile;
import qdm.testing.Reference;

/**
 * Compressed forward passes against Hugging Face transformers run on weights compressed by the
 * reference rules (RTN INT4 per row, 30% per-tensor magnitude pruning), through the exact code path
 * of {@code jobs/qdm forward --compress}.
 */
class CompressedForwardReferenceTest {
  static final double TOLERANCE = 1e-4;

  @TempDir Path tmp;

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("neox", "rtn:4", "expected-rtn4.safetensors"),
        Arguments.of("neox", "prune:0.3", "expected-prune30.safetensors"),
        Arguments.of("gemma2", "rtn:4", "expected-rtn4.safetensors"),
        Arguments.of("gemma2", "prune:0.3", "expected-prune30.safetensors"),
        // GPT-2: one scale per output channel, a column of the [in, out] Conv1D weights
        Arguments.of("gpt2", "rtn:4", "expected-rtn4.safetensors"),
        Arguments.of("llama", "rtn:4", "expected-rtn4.safetensors"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void compressedForwardMatchesTransformers(String model, String spec, String expected) {
    Path dir = Reference.model(model);
    Path out = tmp.resolve("out.safetensors");
    int code =
        Main.run(
            "forward",
            "--model",
            dir.toString(),
            "--input-ids",
            dir.resolve("inputs.json").toString(),
            "--out",
            out.toString(),
            "--compress",
            spec);
    assertEquals(0, code);
    Path want = dir.resolve(expected);
    try (SafetensorsFile e = SafetensorsFile.open(want);
        SafetensorsFile a = SafetensorsFile.open(out)) {
      Set<String> names = e.names();
      assertEquals(names, Set.copyOf(a.names()), "output tensor names");
      for (String name : names) {
        Reference.assertClose(
            Reference.read(want, name),
            Reference.read(out, name),
            TOLERANCE,
            model + " " + spec + " " + name);
      }
    }
  }
}
