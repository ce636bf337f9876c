package qdm.model.mistral;

import java.util.List;
import qdm.model.JsonFields;
import qdm.model.llama.Llama;
import qdm.model.llama.LlamaConfig;

/**
 * The {@code mistral} architecture: the Llama decoder without biases, each query attending to the
 * last {@code sliding_window} keys (itself included) in every layer; a null window (Mistral 7B v0.2
 * and later) is plain causal attention.
 */
public final class Mistral extends Llama {

  @Override
  public List<String> modelTypes() {
    return List.of("mistral");
  }

  @Override
  public LlamaConfig parseConfig(JsonFields json) {
    int window = json.integer("sliding_window", 0);
    if (window < 0) {
      throw json.invalid("sliding_window", "a positive number of keys, or null");
    }
    return parse(json, "mistral", false, false, window);
  }

  @Override
  protected String[] ggufArchitectures() {
    return new String[] {"llama", "mistral"};
  }
}
