package qdm.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Locale;
import qdm.io.quant.WeightFormat;
import qdm.model.Processing;
import qdm.sae.SaeFormat;

/**
 * The allowed values of enumerated options, taken from the types that define them, for picocli's
 * {@code ${COMPLETION-CANDIDATES}} in help texts: nothing restated by hand.
 */
final class Choices {
  private Choices() {}

  private static ArrayList<String> lower(Enum<?>[] values) {
    return new ArrayList<>(
        Arrays.stream(values).map(v -> v.name().toLowerCase(Locale.ROOT)).toList());
  }

  /** {@link SaeFormat}. */
  static final class SaeFormats extends ArrayList<String> {
    private static final long serialVersionUID = 1L;

    SaeFormats() {
      super(lower(SaeFormat.values()));
    }
  }

  /** {@link Processing}. */
  static final class Processings extends ArrayList<String> {
    private static final long serialVersionUID = 1L;

    Processings() {
      super(lower(Processing.values()));
    }
  }

  /** {@link WeightFormat} ids. */
  static final class WeightFormats extends ArrayList<String> {
    private static final long serialVersionUID = 1L;

    WeightFormats() {
      super(Arrays.stream(WeightFormat.values()).map(WeightFormat::id).toList());
    }
  }
}
