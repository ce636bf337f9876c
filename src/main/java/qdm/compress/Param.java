package qdm.compress;

import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import qdm.model.TensorRole;

/**
 * One parameter of a simulated compression method, declared once for both syntaxes a condition is
 * written in: the HOCON object of {@code conditions = [...]} (under {@link #key()}) and the {@code
 * --compress} string (by {@link #form()}: a value right after the method, {@code :gN}, {@code
 * :asym}, {@code :targets=...}, {@code :tl}). Parsing, rendering, canonical names, error messages
 * and help text are all derived from these declarations ({@code qdm.condition}).
 *
 * @param key the HOCON key ({@code bits}, {@code group-size}) and the key of {@link Settings}
 * @param label the parameter in prose ({@code group size}), for messages
 * @param form how it is written in the spec string and in the canonical name
 * @param token the prefix of a {@link Form#PREFIXED} value or the word of a {@link Form#FLAG}
 * @param placeholder the value in a syntax line ({@code BITS}, {@code GROUP})
 * @param absent its value when not written
 * @param check null when a value is acceptable, else what was expected ("must be ...")
 */
public record Param(
    String key,
    String label,
    Form form,
    String token,
    String placeholder,
    Object absent,
    Function<Object, String> check) {

  /** How a parameter is written. */
  public enum Form {
    /** An integer right after the method: {@code rtn:4}; named {@code rtn4}. */
    INTEGER,
    /**
     * A fraction right after the method: {@code prune:0.3}; named as a percentage, {@code prune30}.
     */
    FRACTION,
    /** An integer after a prefix: {@code :g128}; named {@code -g128}; left out when absent. */
    PREFIXED,
    /** A word that sets a boolean: {@code :asym}; named {@code -asym}. */
    FLAG,
    /** Tensor roles: {@code :targets=decoder+embed}; named {@code @decoder+embed}. */
    TARGETS,
    /** {@code :tl} or {@code :hf}; named {@code -tl} when not the default convention. */
    CONVENTION
  }

  /** An integer right after the method name. */
  public static Param integer(
      String key, String label, String placeholder, Function<Object, String> check) {
    return new Param(key, label, Form.INTEGER, "", placeholder, null, check);
  }

  /** A fraction right after the method name. */
  public static Param fraction(
      String key, String label, String placeholder, Function<Object, String> check) {
    return new Param(key, label, Form.FRACTION, "", placeholder, null, check);
  }

  /** An optional integer written {@code :TOKEN<n>}. */
  public static Param prefixed(
      String key,
      String label,
      String token,
      String placeholder,
      int absent,
      Function<Object, String> check) {
    return new Param(key, label, Form.PREFIXED, token, placeholder, absent, check);
  }

  /** A boolean switched on by the word {@code token}. */
  public static Param flag(String key, String token) {
    return new Param(key, token, Form.FLAG, token, "", false, v -> null);
  }

  /** The tensor roles compressed ({@link Targets}), by default the decoder's linear weights. */
  public static Param targets() {
    return new Param(
        "targets", "targets", Form.TARGETS, "targets=", "", Compression.DEFAULT_TARGETS, v -> null);
  }

  /** The {@link Convention}; absent means the configuration's default. */
  public static Param convention() {
    return new Param("convention", "convention", Form.CONVENTION, "", "", Convention.HF, v -> null);
  }

  /** Whether the value must be written (a value right after the method). */
  public boolean required() {
    return form == Form.INTEGER || form == Form.FRACTION;
  }

  /** This parameter in a syntax line: {@code BITS}, {@code [:gGROUP]}, {@code [:asym]}. */
  public String syntax() {
    return switch (form) {
      case INTEGER, FRACTION -> placeholder;
      case PREFIXED -> "[:" + token + placeholder + "]";
      case FLAG -> "[:" + token + "]";
      case TARGETS ->
          "[:targets=" + String.join("+", Targets.words(Set.of(TensorRole.values()))) + "]";
      case CONVENTION -> "[:tl|:hf]";
    };
  }

  /** A parameter value that is wrong, or wrong together with another: names the parameter. */
  public static final class Invalid extends qdm.QdmException {
    private static final long serialVersionUID = 1L;
    private final String key;

    /** {@code message} reads after the parameter's label: "must be between 2 and 8, got 9". */
    public Invalid(String key, String message) {
      super(message);
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  @Override
  public String toString() {
    return key.toLowerCase(Locale.ROOT);
  }
}
