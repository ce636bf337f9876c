package qdm.model.qwen2;

import java.util.List;
import qdm.model.JsonFields;
import qdm.model.llama.Llama;
import qdm.model.llama.LlamaConfig;

/**
 * The {@code qwen2} architecture (Qwen2, Qwen2.5): the Llama decoder with biases on the q, k and v
 * projections (none on the output projection or the MLP). Qwen2's sliding-window attention ({@code
 * use_sliding_window = true}) is not implemented and refused; with it off, as in the released
 * Qwen2.5 configs, attention is plain causal.
 */
public final class Qwen2 extends Llama {

  @Override
  public List<String> modelTypes() {
    return List.of("qwen2");
  }

  @Override
  public LlamaConfig parseConfig(JsonFields json) {
    if (json.bool("use_sliding_window", false)) {
      throw json.invalid(
          "use_sliding_window", "false (Qwen2's sliding-window layers are not " + "implemented)");
    }
    return parse(json, "qwen2", true, false, 0);
  }

  @Override
  protected String[] ggufArchitectures() {
    return new String[] {"qwen2"};
  }

  /** llama.cpp converts Qwen2 without permuting Q and K (it uses NeoX-style RoPE there). */
  @Override
  protected boolean ggufPermutesQk() {
    return false;
  }
}
