package qdm.io.gguf;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How one architecture's tensors are named and laid out in GGUF files, mapped back to its Hugging
 * Face names: llama.cpp's names ({@code token_embd}, {@code blk.N.attn_q}, {@code output_norm} ...
 * as {@code gguf-py}'s tensor mapping assigns them) and what its converter changed in the values
 * ({@link Undo}). Each architecture declares its mapping ({@code Architecture.gguf}).
 */
public final class GgufNames {

  /** What llama.cpp's {@code convert_hf_to_gguf.py} did to a tensor, undone on read. */
  public sealed interface Undo {
    /** The stored row that holds row {@code row} of the Hugging Face tensor of {@code rows}. */
    default long sourceRow(long row, long rows) {
      return row;
    }

    /** The Hugging Face value of a stored value. */
    default float value(float stored) {
      return stored;
    }

    /** Nothing changed. */
    record None() implements Undo {}

    /**
     * Norm weights stored as {@code w + 1} (Gemma: transformers computes {@code x * (1 + w)},
     * llama.cpp multiplies by the stored weight).
     */
    record PlusOne() implements Undo {
      @Override
      public float value(float stored) {
        return stored - 1f;
      }
    }

    /**
     * Llama-family Q and K rows permuted from the rotate-half layout of transformers to llama.cpp's
     * interleaved pairs: within each of {@code heads} heads, stored row {@code 2a + b} is Hugging
     * Face row {@code b * d/2 + a}.
     */
    record RopePermuted(int heads) implements Undo {
      @Override
      public long sourceRow(long row, long rows) {
        long d = rows / heads;
        long h = row / d;
        long r = row % d;
        long b = r / (d / 2);
        long a = r % (d / 2);
        return h * d + 2 * a + b;
      }
    }

    /**
     * GPT-NeoX's fused QKV, interleaved per head in transformers ([head][q, k, v][d]), stored by
     * llama.cpp as [Q; K; V] ([q, k, v][head][d]).
     */
    record NeoxQkv(int heads) implements Undo {
      @Override
      public long sourceRow(long row, long rows) {
        long e = rows / 3;
        long d = e / heads;
        long h = row / (3 * d);
        long t = (row % (3 * d)) / d;
        long j = row % d;
        return t * e + h * d + j;
      }
    }
  }

  /** A GGUF tensor's Hugging Face name and what to undo. */
  public record Mapped(String hfName, Undo undo) {}

  private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(.+)");
  private static final Undo NONE = new Undo.None();

  private final String model;
  private final List<String> architectures;
  private final Map<String, Mapped> global = new LinkedHashMap<>();
  private final Map<String, Mapped> block = new LinkedHashMap<>();
  private final java.util.Set<String> ignored = new java.util.HashSet<>();

  private GgufNames(String model, List<String> architectures) {
    this.model = model;
    this.architectures = List.copyOf(architectures);
  }

  /**
   * A mapping for QDM's {@code model} ({@code model_type}), accepting GGUF files whose {@code
   * general.architecture} is one of {@code architectures}.
   */
  public static GgufNames of(String model, String... architectures) {
    return new GgufNames(model, List.of(architectures));
  }

  /** A tensor outside the blocks. */
  public GgufNames global(String gguf, String hf) {
    return global(gguf, hf, NONE);
  }

  public GgufNames global(String gguf, String hf, Undo undo) {
    global.put(gguf, new Mapped(hf, undo));
    return this;
  }

  /** A tensor of every block: {@code hf} has a {@code %d} for the layer. */
  public GgufNames block(String gguf, String hf) {
    return block(gguf, hf, NONE);
  }

  public GgufNames block(String gguf, String hf, Undo undo) {
    block.put(gguf, new Mapped(hf, undo));
    return this;
  }

  /** A tensor llama.cpp adds that the Hugging Face model computes ({@code rope_freqs}). */
  public GgufNames ignore(String gguf) {
    ignored.add(gguf);
    return this;
  }

  public String model() {
    return model;
  }

  public List<String> architectures() {
    return architectures;
  }

  public boolean ignored(String gguf) {
    return ignored.contains(gguf);
  }

  /** The Hugging Face name of a GGUF tensor, if the architecture has one. */
  public Optional<Mapped> map(String gguf) {
    Mapped g = global.get(gguf);
    if (g != null) {
      return Optional.of(g);
    }
    Matcher m = BLOCK.matcher(gguf);
    if (m.matches()) {
      Mapped b = block.get(m.group(2));
      if (b != null) {
        return Optional.of(
            new Mapped(
                String.format(java.util.Locale.ROOT, b.hfName(), Integer.parseInt(m.group(1))),
                b.undo()));
      }
    }
    return Optional.empty();
  }
}
