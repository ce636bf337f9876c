package qdm.compress;

import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A simulated compression method as the condition grammar sees it: its id (the first word of a spec
 * and the {@code method} of a condition), its parameters in order, and how validated settings
 * become the compression. Each compression class declares its own ({@code Rtn.METHOD}); {@code
 * qdm.condition.SimulatedMethods} is the registry.
 *
 * @param id {@code rtn}, {@code prune}, {@code nf4}
 * @param summary one line for help texts
 * @param params in the order they are written and named
 * @param create builds the compression from complete settings; may throw {@link Param.Invalid}
 *     naming the parameter at fault for problems across parameters
 */
public record Method(
    String id, String summary, List<Param> params, Function<Settings, Compression> create) {

  public Method {
    params = List.copyOf(params);
  }

  /** The parameter with {@code key}, if the method has it. */
  public java.util.Optional<Param> param(String key) {
    return params.stream().filter(p -> p.key().equals(key)).findFirst();
  }

  /** The spec syntax: {@code rtn:BITS[:gGROUP][:asym][:targets=...][:tl|:hf]}. */
  public String syntax() {
    return id
        + params.stream()
            .map(p -> p.required() ? ":" + p.syntax() : p.syntax())
            .collect(Collectors.joining());
  }
}
