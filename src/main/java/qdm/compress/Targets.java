package qdm.compress;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import qdm.QdmException;
import qdm.model.TensorRole;

/**
 * The tensor roles a compression may target and their one vocabulary: {@code decoder}, {@code
 * embed}, {@code head} (the long forms {@code decoder_linear}, {@code embedding(s)}, {@code
 * lm_head} / {@code lm-head} are read too), in spec strings, config lists and names.
 */
public final class Targets {
  /** Roles that are weight matrices [out, in]; norms and biases are never compressed. */
  public static final Set<TensorRole> ALLOWED =
      Collections.unmodifiableSet(
          EnumSet.of(TensorRole.DECODER_LINEAR, TensorRole.EMBEDDING, TensorRole.LM_HEAD));

  /** The order roles are written in. */
  private static final List<TensorRole> ORDER =
      List.of(TensorRole.DECODER_LINEAR, TensorRole.EMBEDDING, TensorRole.LM_HEAD);

  private Targets() {}

  /** An unmodifiable copy of {@code targets}, after checking it is non-empty and allowed. */
  public static Set<TensorRole> check(Set<TensorRole> targets) {
    if (targets == null || targets.isEmpty()) {
      throw new QdmException(
          "compression targets must name at least one of " + String.join(", ", words(ALLOWED)));
    }
    for (TensorRole role : targets) {
      if (!ALLOWED.contains(role)) {
        throw new QdmException(
            "compression target "
                + role
                + " is not a weight matrix; "
                + "expected one of "
                + String.join(", ", words(ALLOWED)));
      }
    }
    return Collections.unmodifiableSet(EnumSet.copyOf(targets));
  }

  /** The short names of the allowed roles among {@code targets}, in role order. */
  public static List<String> words(Set<TensorRole> targets) {
    List<String> out = new ArrayList<>();
    for (TensorRole role : ORDER) {
      if (targets.contains(role)) {
        out.add(word(role));
      }
    }
    return out;
  }

  /** Short names joined by '+', in role order: {@code decoder+embed}. */
  public static String describe(Set<TensorRole> targets) {
    return String.join("+", words(targets));
  }

  /** One role's name; null when {@code word} names none. */
  public static TensorRole role(String word) {
    return switch (word.trim().toLowerCase(Locale.ROOT)) {
      case "decoder", "decoder_linear" -> TensorRole.DECODER_LINEAR;
      case "embed", "embedding", "embeddings" -> TensorRole.EMBEDDING;
      case "head", "lm_head", "lm-head" -> TensorRole.LM_HEAD;
      default -> null;
    };
  }

  private static String word(TensorRole role) {
    return switch (role) {
      case DECODER_LINEAR -> "decoder";
      case EMBEDDING -> "embed";
      case LM_HEAD -> "head";
      default -> role.name().toLowerCase(Locale.ROOT);
    };
  }
}
