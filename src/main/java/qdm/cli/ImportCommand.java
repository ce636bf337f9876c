package qdm.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import qdm.io.llama2c.Llama2cHeader;
import qdm.io.llama2c.Llama2cImport;

/** {@code qdm import}: models from other projects' formats into Hugging Face directories. */
@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    description = "Convert a model from another project's format to a Hugging Face directory.",
    subcommands = {ImportCommand.Llama2c.class})
public final class ImportCommand {

  /** {@code qdm import llama2c}. */
  @Command(
      name = "llama2c",
      mixinStandardHelpOptions = true,
      description =
          "Convert a llama2.c checkpoint (run.c's .bin) and tokenizer.bin to a Hugging Face "
              + "Llama directory: config.json, model.safetensors (float32; Q/K rows permuted to "
              + "rotate-half RoPE; a shared classifier as tied embeddings), tokenizer.json "
              + "(BPE with byte fallback, merges ranked by the SentencePiece scores) and "
              + "tokenizer_config.json.")
  static final class Llama2c implements Callable<Integer> {
    @Option(
        names = "--checkpoint",
        required = true,
        paramLabel = "FILE",
        description = "The llama2.c checkpoint, e.g. stories15M.bin.")
    Path checkpoint;

    @Option(
        names = "--tokenizer",
        required = true,
        paramLabel = "FILE",
        description = "llama2.c's tokenizer.bin (the Llama-2 vocabulary).")
    Path tokenizer;

    @Option(
        names = "--out",
        required = true,
        paramLabel = "DIR",
        description = "The model directory to create (must not exist or be empty).")
    Path out;

    @Override
    public Integer call() {
      Llama2cHeader h = Llama2cImport.write(checkpoint, tokenizer, out);
      System.err.printf(
          Locale.ROOT,
          "qdm import: %s -> %s (Llama: %d layers, d_model %d, %d heads, MLP %d, vocab %d, "
              + "context %d%s)%n",
          checkpoint,
          out,
          h.layers(),
          h.dim(),
          h.heads(),
          h.hiddenDim(),
          h.vocab(),
          h.seqLen(),
          h.sharedClassifier() ? ", tied embeddings" : "");
      return 0;
    }
  }
}
