package qdm.condition;

import java.io.Serializable;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.function.UnaryOperator;
import qdm.compress.Compression;
import qdm.compress.Convention;
import qdm.compress.MagnitudePruning;
import qdm.model.ModelFiles;

/**
 * One condition of an audit: where a model's weights come from. Every condition runs over the same
 * token windows and is encoded by the same SAEs; the forward pass, the SAE and the analysis never
 * know which kind it was.
 *
 * <ul>
 *   <li>{@link Reference}: the model as loaded (processed if the config says so);
 *   <li>{@link Simulated}: a {@link Compression} of the reference (RTN, pruning, NF4, ...) under a
 *       {@link Convention};
 *   <li>{@link MatchedPruning}: pruning whose sparsity is searched to match another condition's
 *       perplexity; it becomes a {@link Simulated} once searched ({@link MatchedPruning#at});
 *   <li>{@link Checkpoint}: a compressed checkpoint someone else produced, dequantized on load.
 * </ul>
 *
 * <p>Conditions are serializable values: the executor receives the condition itself. {@link
 * ConditionSyntax} reads and writes them in both syntaxes and gives the canonical names; {@link
 * ConditionWeights} turns one into weights.
 */
public sealed interface Condition extends Serializable {

  /** The condition's name: a directory-safe identifier unique within the audit. */
  String name();

  /**
   * {@code none}, a simulated method's id ({@code rtn}, {@code prune}, ...) or {@code checkpoint}.
   */
  String method();

  /**
   * The condition in {@code --compress} syntax ({@code none}, {@code rtn:4:g32:asym}, {@code
   * checkpoint:gguf:PATH}); {@code prune:?} for a matched condition before its search.
   */
  String spec();

  /** The convention its compression is computed under ({@link Convention#HF} when it has none). */
  default Convention convention() {
    return Convention.HF;
  }

  /** Bits per weight where the condition's own parameters say ({@code rtn}). */
  default OptionalInt bits() {
    return OptionalInt.empty();
  }

  /** The sparsity its parameters fix (fixed pruning); empty for a matched one. */
  default OptionalDouble sparsity() {
    return OptionalDouble.empty();
  }

  /** The condition whose results this one needs before it can run (a matched search's target). */
  default Optional<String> dependsOn() {
    return Optional.empty();
  }

  /** The files it reads besides the reference's (a checkpoint's path). */
  default Optional<String> files() {
    return Optional.empty();
  }

  /** This condition with its file locations passed through {@code map} (hub downloads). */
  default Condition mapFiles(UnaryOperator<String> map) {
    return this;
  }

  /** Whether this is the uncompressed model. */
  default boolean isReference() {
    return false;
  }

  /** Whether its weights are known only after a search ({@link MatchedPruning}). */
  default boolean isSearched() {
    return false;
  }

  /**
   * What the tables say about it: method, bits, sparsity and source text. A checkpoint's bits and
   * format are read from its files, with the reference's config ({@code reference}).
   */
  default Provenance provenance(ModelFiles reference) {
    return new Provenance(method(), bits(), sparsity(), convention(), "simulated " + spec());
  }

  /** The uncompressed model. */
  record Reference(String name) implements Condition {
    @Override
    public String method() {
      return "none";
    }

    @Override
    public String spec() {
      return "none";
    }

    @Override
    public boolean isReference() {
      return true;
    }

    @Override
    public Provenance provenance(ModelFiles reference) {
      return new Provenance(method(), bits(), sparsity(), convention(), "reference");
    }
  }

  /** A simulated compression of the reference. */
  record Simulated(String name, Compression compression) implements Condition {
    @Override
    public String method() {
      return compression.method().id();
    }

    @Override
    public String spec() {
      return ConditionSyntax.spec(compression);
    }

    @Override
    public Convention convention() {
      var s = compression.settings();
      return s.has("convention") ? s.convention("convention") : Convention.HF;
    }

    @Override
    public OptionalInt bits() {
      var s = compression.settings();
      return s.has("bits") ? OptionalInt.of(s.integer("bits")) : OptionalInt.empty();
    }

    @Override
    public OptionalDouble sparsity() {
      var s = compression.settings();
      return s.has("sparsity") ? OptionalDouble.of(s.fraction("sparsity")) : OptionalDouble.empty();
    }
  }

  /**
   * Magnitude pruning whose sparsity is searched so its perplexity matches another condition's (the
   * paper's "pruning matched to INT6").
   *
   * @param template the pruning to search (its sparsity is ignored)
   */
  record MatchedPruning(String name, String target, Search search, MagnitudePruning template)
      implements Condition {
    @Override
    public String method() {
      return "prune";
    }

    @Override
    public String spec() {
      return ConditionSyntax.spec(template).replaceFirst("^prune:[^:]*", "prune:?");
    }

    @Override
    public Convention convention() {
      return template.convention();
    }

    @Override
    public Optional<String> dependsOn() {
      return Optional.of(target);
    }

    @Override
    public boolean isSearched() {
      return true;
    }

    @Override
    public Provenance provenance(ModelFiles reference) {
      return new Provenance(
          method(),
          bits(),
          sparsity(),
          convention(),
          "simulated prune, perplexity-matched to " + target);
    }

    /** The condition at a searched sparsity, under this condition's name. */
    public Simulated at(double sparsity) {
      return new Simulated(name, template.withSparsity(sparsity));
    }
  }

  /**
   * A compressed checkpoint the user ships (GPTQ, AWQ, compressed-tensors, bitsandbytes, GGUF, or
   * dense safetensors of any dtype), dequantized on load and run as it is: QDM compresses nothing.
   * {@code path} is a model directory (with its own config.json), a weights file of the reference's
   * architecture, or an {@code hf://} location.
   *
   * @param formatId a {@code qdm.io.quant.WeightFormat} id, or {@code auto} to detect it
   */
  record Checkpoint(String name, String path, String formatId) implements Condition {
    public static final String AUTO = "auto";

    @Override
    public String method() {
      return "checkpoint";
    }

    /** {@code checkpoint:FORMAT:PATH}, FORMAT {@code auto} when detected. */
    @Override
    public String spec() {
      return "checkpoint:" + formatId + ":" + path;
    }

    /** The format given in the config; empty when it is detected from the files. */
    public Optional<String> format() {
      return formatId.equals(AUTO) ? Optional.empty() : Optional.of(formatId);
    }

    @Override
    public Optional<String> files() {
      return Optional.of(path);
    }

    @Override
    public Condition mapFiles(UnaryOperator<String> map) {
      return new Checkpoint(name, map.apply(path), formatId);
    }

    @Override
    public Provenance provenance(ModelFiles reference) {
      return CheckpointProvenance.of(this, reference);
    }
  }

  /**
   * The bisection of the matched-perplexity search: {@code steps} halvings of [low, high], each
   * probe's perplexity measured on the first {@code maxTokens} tokens of the chunk windows.
   */
  record Search(double low, double high, int steps, long maxTokens) implements Serializable {
    /** The paper's search: [0, 0.8] in 6 steps. */
    public static final Search DEFAULT = new Search(0.0, 0.8, 6, 100_000);
  }

  /** The checkpoint conditions of {@code conditions}, in order. */
  static List<Checkpoint> checkpoints(List<Condition> conditions) {
    return conditions.stream()
        .filter(c -> c instanceof Checkpoint)
        .map(c -> (Checkpoint) c)
        .toList();
  }

  /** The matched conditions of {@code conditions}, in order. */
  static List<MatchedPruning> matched(List<Condition> conditions) {
    return conditions.stream()
        .filter(c -> c instanceof MatchedPruning)
        .map(c -> (MatchedPruning) c)
        .toList();
  }
}
