package qdm.compress;

import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.StringJoiner;
import qdm.QdmException;
import qdm.model.TensorRole;

/**
 * The tensor roles a compression may target, their short names in compression specs and
 * condition names ({@code decoder}, {@code embed}, {@code head}), and their validation.
 */
final class Targets {
  /** Roles that are weight matrices [out, in]; norms and biases are never compressed. */
  static final Set<TensorRole> ALLOWED = Collections.unmodifiableSet(
      EnumSet.of(TensorRole.DECODER_LINEAR, TensorRole.EMBEDDING, TensorRole.LM_HEAD));

  private Targets() {}

  /** An unmodifiable copy of {@code targets}, after checking it is non-empty and allowed. */
  static Set<TensorRole> check(Set<TensorRole> targets) {
    if (targets == null || targets.isEmpty()) {
      throw new QdmException("compression targets must name at least one of "
          + describe(ALLOWED));
    }
    for (TensorRole role : targets) {
      if (!ALLOWED.contains(role)) {
        throw new QdmException("compression target " + role + " is not a weight matrix; "
            + "expected one of " + describe(ALLOWED));
      }
    }
    return Collections.unmodifiableSet(EnumSet.copyOf(targets));
  }

  /** The suffix a condition name gets for these targets: empty for the default set. */
  static String suffix(Set<TensorRole> targets) {
    return targets.equals(Compression.DEFAULT_TARGETS) ? "" : "@" + describe(targets);
  }

  /** Short names joined by '+', in role order: {@code decoder+embed}. */
  static String describe(Set<TensorRole> targets) {
    StringJoiner j = new StringJoiner("+");
    for (TensorRole role : List.of(TensorRole.DECODER_LINEAR, TensorRole.EMBEDDING,
        TensorRole.LM_HEAD)) {
      if (targets.contains(role)) {
        j.add(shortName(role));
      }
    }
    return j.toString();
  }

  /** Parses {@code decoder+embed+head} (long forms decoder_linear, embedding, lm_head too). */
  static Set<TensorRole> parse(String list, String spec) {
    Set<TensorRole> roles = EnumSet.noneOf(TensorRole.class);
    for (String word : list.split("\\+", -1)) {
      roles.add(switch (word.trim().toLowerCase(Locale.ROOT)) {
        case "decoder", "decoder_linear" -> TensorRole.DECODER_LINEAR;
        case "embed", "embedding" -> TensorRole.EMBEDDING;
        case "head", "lm_head" -> TensorRole.LM_HEAD;
        default -> throw new QdmException("compression '" + spec + "': unknown target '" + word
            + "'; expected a '+'-separated list of decoder, embed, head");
      });
    }
    return check(roles);
  }

  private static String shortName(TensorRole role) {
    return switch (role) {
      case DECODER_LINEAR -> "decoder";
      case EMBEDDING -> "embed";
      case LM_HEAD -> "head";
      default -> role.name().toLowerCase(Locale.ROOT);
    };
  }
}
