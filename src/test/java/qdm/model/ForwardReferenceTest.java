package qdm.model;

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
 * The forward pass against Hugging Face transformers: every hidden state, the logits and the NLL of
 * the reference fixtures, through the exact code path of {@code jobs/qdm forward}.
 */
class ForwardReferenceTest {
  static final double TOLERANCE = 1e-4;

  @TempDir Path tmp;

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("neox", "model.safetensors", "expected.safetensors"),
        Arguments.of("neox", "model-f16.safetensors", "expected-f16w.safetensors"),
        Arguments.of("gemma2", "model.safetensors", "expected.safetensors"),
        Arguments.of("gemma2", "model-f16.safetensors", "expected-f16w.safetensors"),
        Arguments.of("gpt2", "model.safetensors", "expected.safetensors"),
        Arguments.of("gpt2", "model-bf16.safetensors", "expected-bf16w.safetensors"),
        Arguments.of("llama", "model.safetensors", "expected.safetensors"),
        Arguments.of("llama", "model-bf16.safetensors", "expected-bf16w.safetensors"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void forwardMatchesTransformers(String model, String weights, String expected) {
    Path dir = Reference.model(model);
    Path out = tmp.resolve("out.safetensors");
    int code =
        Main.run(
            "forward",
            "--model",
            dir.toString(),
            "--weights",
            dir.resolve(weights).toString(),
            "--input-ids",
            dir.resolve("inputs.json").toString(),
            "--out",
            out.toString());
    assertEquals(0, code);
    assertAllClose(dir.resolve(expected), out);
  }

  /** Every tensor of the expectation file is in the output and agrees to 1e-4. */
  static void assertAllClose(Path expected, Path actual) {
    try (SafetensorsFile e = SafetensorsFile.open(expected);
        SafetensorsFile a = SafetensorsFile.open(actual)) {
      Set<String> names = e.names();
      assertEquals(names, Set.copyOf(a.names()), "output tensor names");
      for (String name : names) {
        Reference.assertClose(
            Reference.read(expected, name), Reference.read(actual, name), TOLERANCE, name);
      }
    }
  }
}
