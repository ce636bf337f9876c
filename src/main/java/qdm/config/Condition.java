package qdm.config;

import java.util.List;

/**
 * One condition of an audit: the reference model or a compressed copy of it. Every condition runs
 * over the same token windows and is encoded by the same SAE.
 *
 * <p>{@link #compression()} gives the compression in the CLI syntax of {@code jobs/qdm forward
 * --compress} ({@code none}, {@code rtn:BITS[:gGROUP][:asym]}, {@code prune:FRACTION[:global]},
 * optionally {@code :targets=decoder+embed+head}),
 * which is the single place a compression is named.
 */
public sealed interface Condition {

  /** The condition's name: a directory-safe identifier unique within the audit. */
  String name();

  /** {@code none}, {@code rtn}, {@code prune} or {@code checkpoint}. */
  String method();

  /** The compression, in {@code --compress} syntax; a matched condition has none until searched. */
  String compression();

  /** Tensor roles compressed besides the decoder linear weights ({@code embeddings}, {@code lm-head}). */
  List<String> extraTargets();

  /**
   * The compression convention: {@code hf} (HF tensors as stored) or {@code tl} (the paper's
   * TransformerLens parameters); {@code hf} for the reference.
   */
  String convention();

  /** The uncompressed model. */
  record Reference(String name) implements Condition {
    @Override
    public String method() {
      return "none";
    }

    @Override
    public String compression() {
      return "none";
    }

    @Override
    public List<String> extraTargets() {
      return List.of();
    }

    @Override
    public String convention() {
      return "hf";
    }
  }

  /** Round-to-nearest quantization. {@code groupSize} 0 means one scale per output row. */
  record Rtn(String name, int bits, int groupSize, boolean asymmetric, List<String> extraTargets,
      String convention) implements Condition {
    public Rtn {
      extraTargets = List.copyOf(extraTargets);
    }

    @Override
    public String method() {
      return "rtn";
    }

    @Override
    public String compression() {
      return "rtn:" + bits + (groupSize > 0 ? ":g" + groupSize : "") + (asymmetric ? ":asym" : "")
          + Targets.suffix(extraTargets) + conventionSuffix(convention);
    }
  }

  /** Unstructured magnitude pruning at a fixed sparsity. */
  record Prune(String name, double sparsity, boolean global, List<String> extraTargets,
      String convention) implements Condition {
    public Prune {
      extraTargets = List.copyOf(extraTargets);
    }

    @Override
    public String method() {
      return "prune";
    }

    @Override
    public String compression() {
      return pruneSpec(sparsity, global, extraTargets, convention);
    }
  }

  /**
   * Magnitude pruning whose sparsity is searched so its perplexity matches another condition's
   * (the paper's "pruning matched to INT6").
   */
  record MatchedPrune(String name, String target, Search search, boolean global,
      List<String> extraTargets, String convention) implements Condition {
    public MatchedPrune {
      extraTargets = List.copyOf(extraTargets);
    }

    @Override
    public String method() {
      return "prune";
    }

    /** Unknown until the search has run: {@link #at(double)} gives the spec for a sparsity. */
    @Override
    public String compression() {
      return "prune:?";
    }

    /** The compression at a searched sparsity. */
    public String at(double sparsity) {
      return pruneSpec(sparsity, global, extraTargets, convention);
    }
  }

  /**
   * bitsandbytes NF4, simulated: blocks of {@code blocksize} elements, optionally with double
   * quantization of the block scales (the counterpart of a {@code load_in_4bit} checkpoint).
   */
  record Nf4(String name, int blocksize, boolean doubleQuant, List<String> extraTargets)
      implements Condition {
    public Nf4 {
      extraTargets = List.copyOf(extraTargets);
    }

    @Override
    public String method() {
      return "nf4";
    }

    @Override
    public String compression() {
      return "nf4" + (blocksize != 64 ? ":b" + blocksize : "") + (doubleQuant ? ":dq" : "")
          + Targets.suffix(extraTargets);
    }

    @Override
    public String convention() {
      return "hf";
    }
  }

  /**
   * A compressed checkpoint the user ships (GPTQ, AWQ, compressed-tensors, bitsandbytes, GGUF,
   * or dense safetensors of any dtype), dequantized on load and run as it is: QDM compresses
   * nothing. {@code path} is a model directory (with its own config.json), a weights file of the
   * reference's architecture, or an {@code hf://} location; {@code format} overrides the
   * detection ({@code qdm.io.quant.WeightFormat}).
   */
  record Checkpoint(String name, String path, java.util.Optional<String> format)
      implements Condition {
    @Override
    public String method() {
      return "checkpoint";
    }

    /** {@code checkpoint:FORMAT:PATH}, FORMAT {@code auto} when detected. */
    @Override
    public String compression() {
      return CheckpointSpec.PREFIX + format.orElse("auto") + ":" + path;
    }

    @Override
    public List<String> extraTargets() {
      return List.of();
    }

    @Override
    public String convention() {
      return "hf";
    }
  }

  /**
   * The compression string of a {@link Checkpoint}, {@code checkpoint:FORMAT:PATH}: how a
   * checkpoint condition travels to executors next to the {@code --compress} strings.
   */
  record CheckpointSpec(java.util.Optional<String> format, String path) {
    public static final String PREFIX = "checkpoint:";

    public static boolean is(String compression) {
      return compression.startsWith(PREFIX);
    }

    public static CheckpointSpec parse(String compression) {
      String rest = compression.substring(PREFIX.length());
      int colon = rest.indexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("not checkpoint:FORMAT:PATH: " + compression);
      }
      String f = rest.substring(0, colon);
      return new CheckpointSpec(f.equals("auto") ? java.util.Optional.empty()
          : java.util.Optional.of(f), rest.substring(colon + 1));
    }
  }

  /**
   * The bisection of the matched-perplexity search: {@code steps} halvings of [low, high], each
   * probe's perplexity measured on the first {@code maxTokens} tokens of the chunk windows.
   */
  record Search(double low, double high, int steps, long maxTokens) {}

  private static String conventionSuffix(String convention) {
    return convention.equals("tl") ? ":tl" : "";
  }

  private static String pruneSpec(double sparsity, boolean global, List<String> targets,
      String convention) {
    // bisection midpoints like 0.6000000000000001 print as 0.6
    String s = java.math.BigDecimal.valueOf(sparsity).round(new java.math.MathContext(12))
        .stripTrailingZeros().toPlainString();
    return "prune:" + s + (global ? ":global" : "") + Targets.suffix(targets)
        + conventionSuffix(convention);
  }

  /**
   * Extra compression targets: config names ({@code embeddings}, {@code lm-head}) to the CLI
   * syntax ({@code :targets=decoder+embed+head}).
   */
  final class Targets {
    public static final List<String> ALLOWED = List.of("embeddings", "lm-head");

    private Targets() {}

    static String suffix(List<String> targets) {
      if (targets.isEmpty()) {
        return "";
      }
      StringBuilder s = new StringBuilder(":targets=decoder");
      if (targets.contains("embeddings")) {
        s.append("+embed");
      }
      if (targets.contains("lm-head")) {
        s.append("+head");
      }
      return s.toString();
    }
  }
}
