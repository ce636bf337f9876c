package qdm.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import qdm.io.HostTensor;
import qdm.io.SafetensorsFile;

/** The Hugging Face reference fixtures in {@code src/test/resources/reference}. */
public final class Reference {
  private Reference() {}

  /** The reference directory. */
  public static Path dir() {
    return Path.of(System.getProperty("qdm.reference.dir", "src/test/resources/reference"));
  }

  /** A model folder: {@code neox} or {@code gemma2}. */
  public static Path model(String name) {
    return dir().resolve(name);
  }

  /** Reads a whole F32 tensor from a safetensors file. */
  public static HostTensor read(Path file, String name) {
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      return new HostTensor(f.info(name).shape(), f.readFloats(name));
    }
  }

  /** Max absolute difference, after checking the shapes agree. */
  public static double maxAbsDiff(HostTensor expected, HostTensor actual) {
    assertArrayEquals(expected.shape(), actual.shape(), "shape");
    double max = 0;
    float[] e = expected.data();
    float[] a = actual.data();
    for (int i = 0; i < e.length; i++) {
      max = Math.max(max, Math.abs((double) e[i] - a[i]));
    }
    return max;
  }

  /** Asserts every element agrees to {@code tolerance}. */
  public static void assertClose(
      HostTensor expected, HostTensor actual, double tolerance, String what) {
    double diff = maxAbsDiff(expected, actual);
    assertTrue(
        diff <= tolerance,
        what
            + ": max abs diff "
            + diff
            + " > "
            + tolerance
            + " (shape "
            + Arrays.toString(expected.shape())
            + ")");
  }
}
