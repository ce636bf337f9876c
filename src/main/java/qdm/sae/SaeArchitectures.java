package qdm.sae;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import qdm.QdmException;

/** The registry of SAE activation rules, keyed by SAELens' {@code architecture} name. */
public final class SaeArchitectures {
  public static final String STANDARD = "standard";
  public static final String JUMPRELU = "jumprelu";
  public static final String TOPK = "topk";
  public static final String GATED = "gated";

  private static final Map<String, BiFunction<SaeConfig, SaeTensors, Sae>> BY_NAME =
      new LinkedHashMap<>();

  static {
    BY_NAME.put(STANDARD, StandardSae::new);
    BY_NAME.put(JUMPRELU, JumpReluSae::new);
    BY_NAME.put(TOPK, TopKSae::new);
    BY_NAME.put(GATED, GatedSae::new);
  }

  private SaeArchitectures() {}

  /** Fails, naming {@code source}, if {@code name} is not a registered architecture. */
  static void check(String name, Path source) {
    if (!BY_NAME.containsKey(name)) {
      throw new QdmException(
          source
              + ": SAE architecture '"
              + name
              + "' is not supported "
              + "(supported: "
              + String.join(", ", BY_NAME.keySet())
              + ")");
    }
  }

  /** The SAE of {@code config}'s architecture over {@code weights}. */
  static Sae build(SaeConfig config, SaeTensors weights) {
    return BY_NAME.get(config.architecture()).apply(config, weights);
  }
}
