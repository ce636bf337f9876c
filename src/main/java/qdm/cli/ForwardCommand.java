package qdm.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import qdm.QdmException;
import qdm.condition.ConditionSyntax;
import qdm.model.Placement;
import qdm.model.Processing;
import qdm.probe.ForwardProbe;
import qdm.probe.ForwardRequest;
import qdm.sae.SaeFormat;

/**
 * {@code qdm forward}: one forward pass with everything captured, written as safetensors. The
 * debugging view of the runtime, like TransformerLens {@code run_with_cache}; its output keys are a
 * stable contract.
 */
@Command(
    name = "forward",
    mixinStandardHelpOptions = true,
    description = {
      "Run one forward pass and write hidden states, logits and NLL to a safetensors file.",
      "",
      "Output tensors (all F32): hidden_states.0 .. hidden_states.L with Hugging Face's",
      "output_hidden_states meaning (0 = embedding output, i+1 = output of block i, the last",
      "entry has the final norm applied), logits [B,T,V] and nll [B,T-1]."
    })
final class ForwardCommand implements Callable<Integer> {

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description =
          "Hugging Face model directory (config.json + model.safetensors, index or "
              + "one .gguf), also a GPTQ / AWQ / compressed-tensors / bitsandbytes checkpoint "
              + "(config.json with quantization_config).")
  Path model;

  @Option(
      names = "--weights",
      paramLabel = "FILE",
      description =
          "Weights of the --model architecture to use instead of the directory's: "
              + "safetensors (any dtype, quantized with its config.json beside it), a shard index, "
              + "or a .gguf file.")
  Path weights;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      completionCandidates = Choices.WeightFormats.class,
      description =
          "The weights' format when detection is not wanted: ${COMPLETION-CANDIDATES} "
              + "(default: detected from the file and quantization_config).")
  String format;

  @Option(
      names = "--input-ids",
      required = true,
      paramLabel = "IDS.json",
      description = "JSON file {\"input_ids\": [[...], ...]}; all rows the same length.")
  Path inputIds;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "OUT.safetensors",
      description = "Output file; written atomically.")
  Path out;

  @Option(
      names = "--device",
      defaultValue = "cpu",
      paramLabel = "DEVICE",
      description = "cpu, gpu or gpu:N (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(
      names = "--dtype",
      defaultValue = "float32",
      paramLabel = "DTYPE",
      description = "Compute type: float32, or float16 on a GPU (default: ${DEFAULT-VALUE}).")
  String dtype;

  @Option(
      names = "--processing",
      defaultValue = "none",
      paramLabel = "P",
      description =
          "none (the checkpoint as transformers runs it) or transformerlens (the "
              + "weights TransformerLens's from_pretrained computes with: norms folded, writing "
              + "weights and unembedding centred, value biases folded; hidden_states are then that "
              + "model's residual stream). Applied before --compress (default: ${DEFAULT-VALUE}).")
  String processing;

  @Option(
      names = "--compress",
      defaultValue = "none",
      paramLabel = "SPEC",
      description =
          "Compress the weights before the pass (default: ${DEFAULT-VALUE}), one of: "
              + "${COMPLETION-CANDIDATES}. :targets= picks the tensor roles (default: decoder "
              + "linear weights); :tl is the paper's TransformerLens convention (one RTN scale per "
              + "TL channel, one pruning threshold per TL parameter) instead of :hf, the default. "
              + "See conf/README.md, \"Conditions\".",
      completionCandidates = CompressSyntaxes.class)
  String compress;

  @Option(
      names = "--sae",
      paramLabel = "DIR",
      description =
          "Also encode the SAE's hook with this SAE (SAELens dir, Gemma Scope "
              + "params.npz or sparsify dir) and write sae_acts [B,T,d_sae] (dense, zeros where "
              + "inactive).")
  Path sae;

  @Option(
      names = "--sae-format",
      defaultValue = "auto",
      paramLabel = "FORMAT",
      completionCandidates = Choices.SaeFormats.class,
      description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  String saeFormat;

  @Option(
      names = "--sae-hook",
      paramLabel = "HOOK",
      description = "The SAE's hook, e.g. blocks.1.hook_resid_post, when its files do not say.")
  String saeHook;

  @Override
  public Integer call() {
    checkOut(out);
    ForwardRequest request =
        new ForwardRequest(
            model,
            Optional.ofNullable(weights),
            ForwardRequest.readInputIds(inputIds),
            Placement.parse(device, dtype),
            Processing.parse(processing),
            ConditionSyntax.parse(compress),
            Optional.ofNullable(sae)
                .map(
                    p ->
                        new ForwardRequest.SaeSelection(
                            p, SaeFormat.parse(saeFormat), Optional.ofNullable(saeHook))),
            Optional.ofNullable(format)
                .map(f -> qdm.io.quant.WeightFormat.parse(f, "--format").id()));
    ForwardProbe.run(
            request,
            report ->
                System.err.println(
                    "qdm forward: condition "
                        + report.summary()
                        + " ("
                        + request.condition().spec()
                        + ")"))
        .write(out);
    System.err.println("qdm forward: wrote " + out);
    return 0;
  }

  /** The spec forms of the registered methods, listed in {@code --help}. */
  static final class CompressSyntaxes extends java.util.ArrayList<String> {
    private static final long serialVersionUID = 1L;

    CompressSyntaxes() {
      super(ConditionSyntax.syntaxList());
    }
  }

  /** {@code --out} must name a file that can be written, checked before any work. */
  static void checkOut(Path out) {
    Path abs = out.toAbsolutePath().normalize();
    if (Files.isDirectory(abs)) {
      throw new QdmException(
          "--out "
              + out
              + " is a directory; give a file name, e.g. "
              + out.resolve("forward.safetensors"));
    }
    for (Path p = abs.getParent(); p != null; p = p.getParent()) {
      if (Files.exists(p)) {
        if (!Files.isDirectory(p)) {
          throw new QdmException("--out " + out + ": " + p + " is a file, not a directory");
        }
        if (!Files.isWritable(p)) {
          throw new QdmException("--out " + out + ": " + p + " is not writable");
        }
        return;
      }
    }
  }
}
