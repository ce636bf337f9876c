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
 * reference model's Hugging Face names: dense safetensors (any float dtype; a fake-quantized export
 * or any custom compression saved as floats), the packed-integer formats quantization libraries
 * write into safetensors ({@link GptqStore}, {@link AwqStore}, {@link CompressedTensorsStore},
 * {@link BitsAndBytesStore}), and llama.cpp's GGUF files (read by {@code qdm.io.gguf}, which needs
 * the architecture to map names back).
 *
 * <p>The safetensors-based formats are recognised from {@code config.json}'s {@code
 * quantization_config.quant_method}, as Hugging Face transformers recognises them; bitsandbytes
 * checkpoints describe themselves in their tensors too. A {@code format} given by the user
 * overrides the detection.
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
  public static WeightFormat detect(
      Path weights, Optional<QuantConfig> config, TensorStore opened) {
    if (weights.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) {
      return GGUF;
    }
    if (config.isPresent()) {
      return ofMethod(config.get());
    }
    if (BitsAndBytesStore.describesItself(opened)) {
      return BITSANDBYTES;
    }
    return inferred(opened).map(q -> ofMethod(q)).orElse(SAFETENSORS);
  }

  /**
   * The quantization config a checkpoint's tensors imply when no config.json states one: GPTQ
   * ({@code qweight} [in * bits / 32, out] with {@code scales} [groups, out] and {@code g_idx}
   * [in]: bits and group size follow; zero points taken as the original GPTQ format's, as AutoGPTQ
   * writes them), AWQ ({@code qweight} [in, out / 8], {@code scales} [groups, out]) or
   * compressed-tensors ({@code weight_packed} with {@code weight_shape}: read per module anyway).
   * Empty for anything else; packed weights whose shapes say nothing fail.
   */
  public static Optional<QuantConfig> inferred(TensorStore raw) {
    for (String name : raw.names()) {
      if (name.endsWith(".weight_packed")) {
        com.google.gson.JsonObject j = new com.google.gson.JsonObject();
        j.addProperty("quant_method", "compressed-tensors");
        j.addProperty("format", "pack-quantized");
        return Optional.of(new QuantConfig(raw.source(), "inferred", j));
      }
      if (!name.endsWith(".qweight")) {
        continue;
      }
      String m = name.substring(0, name.length() - ".qweight".length());
      long[] q = raw.info(name).shape();
      long[] sc = raw.contains(m + ".scales") ? raw.info(m + ".scales").shape() : null;
      com.google.gson.JsonObject j = new com.google.gson.JsonObject();
      if (sc != null
          && q.length == 2
          && sc.length == 2
          && sc[1] == q[1]
          && raw.contains(m + ".g_idx")) {
        long in = raw.info(m + ".g_idx").numel();
        long bits = 32 * q[0] / in;
        j.addProperty("quant_method", "gptq");
        j.addProperty("bits", bits);
        j.addProperty("group_size", sc[0] == 1 ? -1 : in / sc[0]);
        j.addProperty("checkpoint_format", "gptq");
      } else if (sc != null && q.length == 2 && sc.length == 2 && sc[1] == q[1] * 8) {
        j.addProperty("quant_method", "awq");
        j.addProperty("bits", 4);
        j.addProperty("group_size", q[0] / sc[0]);
        j.addProperty("version", "gemm");
      } else {
        throw new QdmException(
            raw.source()
                + ": tensor '"
                + name
                + "' is packed integer "
                + "weights (GPTQ or AWQ) but no quantization_config was found in a config.json "
                + "beside the weights or in the model's, and the shapes do not tell: put the "
                + "config.json the checkpoint came with next to it");
      }
      org.apache.logging.log4j.LogManager.getLogger(WeightFormat.class)
          .warn(
              raw.source()
                  + ": no quantization_config beside the weights or in the model's config.json; "
                  + "read as "
                  + j
                  + " from the tensor shapes");
      return Optional.of(new QuantConfig(raw.source(), "inferred", j));
    }
    return Optional.empty();
  }

  /** The format of a {@code quant_method}; unknown methods fail naming the supported ones. */
  public static WeightFormat ofMethod(QuantConfig config) {
    String method = config.string("quant_method", "");
    return switch (method.toLowerCase(Locale.ROOT)) {
      case "gptq" -> GPTQ;
      case "awq" -> AWQ;
      case "compressed-tensors", "compressed_tensors" -> COMPRESSED_TENSORS;
      case "bitsandbytes" -> BITSANDBYTES;
      case "" ->
          throw config.invalid(
              "quant_method",
              "the quantization method (QDM reads "
                  + "gptq, awq, compressed-tensors, bitsandbytes)");
      default ->
          throw new QdmException(
              config.file()
                  + ": quantization_config.quant_method '"
                  + method
                  + "' is not a format QDM reads (it reads gptq, awq, compressed-tensors, "
                  + "bitsandbytes and .gguf files); dequantize the checkpoint to safetensors with its "
                  + "own library and audit that");
    };
  }

  /**
   * The float view of a safetensors checkpoint {@code raw} in this format; {@code raw} is closed
   * with the result. Not for GGUF, which is a file format of its own.
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
    return config.orElseThrow(
        () ->
            new QdmException(
                raw.source()
                    + ": format "
                    + id
                    + " needs the checkpoint's quantization_config (bits, group size...), and no "
                    + "config.json beside the weights or in the model directory has one"));
  }
}
