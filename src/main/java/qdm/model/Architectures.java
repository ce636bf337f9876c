package qdm.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import qdm.QdmException;
import qdm.model.gemma2.Gemma2;
import qdm.model.neox.GptNeoX;

/** The registry of supported architectures, keyed by Hugging Face {@code model_type}. */
public final class Architectures {
  private static final Map<String, Architecture<?>> BY_TYPE = new LinkedHashMap<>();

  static {
    register(new GptNeoX());
    register(new Gemma2());
    register(new qdm.model.llama.Llama());
    register(new qdm.model.qwen2.Qwen2());
    register(new qdm.model.mistral.Mistral());
    register(new qdm.model.gpt2.Gpt2());
    register(new qdm.model.gemma.Gemma());
  }

  private Architectures() {}

  private static void register(Architecture<?> a) {
    for (String type : a.modelTypes()) {
      BY_TYPE.put(type, a);
    }
  }

  /** Supported {@code model_type} values. */
  public static List<String> modelTypes() {
    return List.copyOf(BY_TYPE.keySet());
  }

  /** The architecture registered for {@code modelType}. */
  public static Architecture<?> byType(String modelType) {
    Architecture<?> a = BY_TYPE.get(modelType);
    if (a == null) {
      throw new QdmException(
          "model_type '"
              + modelType
              + "' is not supported (supported: "
              + String.join(", ", BY_TYPE.keySet())
              + ")");
    }
    return a;
  }

  /** The architecture for a {@code config.json}; unknown types fail naming the supported ones. */
  public static Architecture<?> of(JsonFields config) {
    String type = config.string("model_type");
    Architecture<?> a = BY_TYPE.get(type);
    if (a == null) {
      throw new QdmException(
          config.file()
              + ": model_type '"
              + type
              + "' is not supported (supported: "
              + String.join(", ", BY_TYPE.keySet())
              + ")");
    }
    return a;
  }
}
