package qdm.io.quant;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import qdm.QdmException;
import qdm.io.TensorStore;

/**
 * The formats a checkpoint's weights may come in, each read into float32 tensors under the
 * reference model's Hugging Face names: dense safetensors (any float dtype; a fake-quantized
 * export or any custom compression saved as floats), the packed-integer formats quantization
 * libraries write into safetensors ({@link GptqStore}, {@link AwqStore},
 * {@link CompressedTensorsStore}, {@link BitsAndBytesStore}), and llama.cpp's GGUF files (read
 * by {@code qdm.io.gguf}, which needs the architecture to map names back).
 *
 * <p>The safetensors-based formats are recognised from {@code config.json}'s
 * {@code quantization_config.quant_method}, as Hugging Face transformers recognises them;
 * bitsandbytes checkpoints describe themselves in their tensors too. A {@code format} given by
 * the user overrides the detection.
 */
public enum WeightFormat {
  SAFETENSORS("safetensors"),
  GPTQ("gptq"),
  AWQ("awq"),
  COMPRESSED_TENSORS("compressed-tensors"),
  BITSANDBYTES("bitsandbytes"),
  GGUF("gguf");

  private final String id;

  WeightFormat(String id) {
    this.id = id;
  }

  /** The name used in configs, {@code --format} and tables. */
  public String id() {
    return id;
  }

  /** Every format's name, for messages. */
  public static String ids() {
    return Arrays.stream(values()).map(WeightFormat::id).collect(Collectors.joining(", "));
  }

  /** Parses a format name; {@code what} names the setting in the error. */
  public static WeightFormat parse(String name, String what) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    for (WeightFormat f : values()) {
      if (f.id.equals(n)) {
        return f;
      }
    }
    throw new QdmException(what + " is '" + name + "'; expected one of " + ids());
  }

  /**
   * The format of {@code weights}: GGUF by its extension, else the {@code quant_method} of the
   * quantization config, else bitsandbytes if its tensors say so, else dense safetensors.
   */
  public static WeightFormat detect(Path weights, Optional<QuantConfig> config,
      TensorStore opened) {
    if (weights.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) {
      return GGUF;
    }
    if (config.isPresent()) {
      return ofMethod(config.get());
    }
    if (BitsAndBytesStore.describesItself(opened)) {
      return BITSANDBYTES;
    }
    for (String name : opened.names()) {
      if (name.endsWith(".qweight") || name.endsWith(".weight_packed")) {
        throw new QdmException(opened.source() + ": tensor '" + name + "' is packed integer "
            + "weights (GPTQ, AWQ or compressed-tensors) but no quantization_config was found "
            + "in a config.json beside the weights or in the model's: put the config.json the "
            + "checkpoint came with next to it");
      }
    }
    return SAFETENSORS;
  }

  /** The format of a {@code quant_method}; unknown methods fail naming the supported ones. */
  public static WeightFormat ofMethod(QuantConfig config) {
    String method = config.string("quant_method", "");
    return switch (method.toLowerCase(Locale.ROOT)) {
      case "gptq" -> GPTQ;
      case "awq" -> AWQ;
      case "compressed-tensors", "compressed_tensors" -> COMPRESSED_TENSORS;
      case "bitsandbytes" -> BITSANDBYTES;
      case "" -> throw config.invalid("quant_method", "the quantization method (QDM reads "
          + "gptq, awq, compressed-tensors, bitsandbytes)");
      default -> throw new QdmException(config.file() + ": quantization_config.quant_method '"
          + method + "' is not a format QDM reads (it reads gptq, awq, compressed-tensors, "
          + "bitsandbytes and .gguf files); dequantize the checkpoint to safetensors with its "
          + "own library and audit that");
    };
  }

  /**
   * The float view of a safetensors checkpoint {@code raw} in this format; {@code raw} is
   * closed with the result. Not for GGUF, which is a file format of its own.
   */
  public TensorStore wrap(TensorStore raw, Optional<QuantConfig> config) {
    return switch (this) {
      case SAFETENSORS -> raw;
      case GPTQ -> new GptqStore(raw, required(config, raw));
      case AWQ -> new AwqStore(raw, required(config, raw));
      case COMPRESSED_TENSORS -> new CompressedTensorsStore(raw, required(config, raw));
      case BITSANDBYTES -> new BitsAndBytesStore(raw, config);
      case GGUF -> throw new IllegalStateException("GGUF files are opened by GgufStore");
    };
  }

  private QuantConfig required(Optional<QuantConfig> config, TensorStore raw) {
    return config.orElseThrow(() -> new QdmException(raw.source() + ": format " + id
        + " needs the checkpoint's quantization_config (bits, group size...), and no "
        + "config.json beside the weights or in the model directory has one"));
  }
}
