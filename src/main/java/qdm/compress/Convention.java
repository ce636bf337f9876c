package qdm.compress;

import java.util.Locale;
import qdm.QdmException;

/**
 * Which tensors a compression's scales and thresholds are computed over.
 *
 * <p>{@link #HF}: the Hugging Face checkpoint's tensors as stored, one RTN scale per output row (or
 * group) and one pruning threshold per tensor. {@link #TL}: the paper's own code, which compresses
 * TransformerLens parameters: one RTN scale per index of a TL parameter's last axis, the maximum
 * taken over all its other axes, and one pruning threshold per TL parameter. They differ where a TL
 * parameter is not an HF tensor's rows: TL's {@code W_Q} [n_heads, d_model, d_head] shares a scale
 * for one d_head index across every head (HF: one per head and index), and GPT-NeoX's fused QKV is
 * pruned as three parameters. Each architecture gives the mapping ({@link qdm.model.TlLayout}).
 */
public enum Convention {
  HF,
  TL;

  /** {@code hf} or {@code tl}. */
  public static Convention parse(String s, String where) {
    return switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "hf" -> HF;
      case "tl" -> TL;
      default -> throw new QdmException(where + ": convention '" + s + "' is not hf or tl");
    };
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
