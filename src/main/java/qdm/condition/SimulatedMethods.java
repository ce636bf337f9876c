package qdm.condition;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import qdm.compress.MagnitudePruning;
import qdm.compress.Method;
import qdm.compress.Nf4;
import qdm.compress.Rtn;

/**
 * The registry of simulated compression methods, keyed by {@link Method#id()}: what the condition
 * grammar accepts as a {@code method} and as the first word of a spec. Adding a method is its
 * compression class (with its {@link Method}) and one line here.
 */
public final class SimulatedMethods {
  private static final Map<String, Method> METHODS = new LinkedHashMap<>();

  static {
    register(Rtn.METHOD);
    register(MagnitudePruning.METHOD);
    register(Nf4.METHOD);
  }

  private SimulatedMethods() {}

  /** Adds {@code method}; its id must be new and must not be a condition kind's word. */
  public static synchronized void register(Method method) {
    String id = method.id();
    if (!id.matches("[a-z][a-z0-9_]*")
        || METHODS.containsKey(id)
        || List.of("none", "fp", "checkpoint").contains(id)) {
      throw new IllegalArgumentException("cannot register a compression method as '" + id + "'");
    }
    METHODS.put(id, method);
  }

  /** The method with {@code id}, if registered. */
  public static synchronized Optional<Method> get(String id) {
    return Optional.ofNullable(METHODS.get(id));
  }

  /** Every registered method, in registration order. */
  public static synchronized List<Method> all() {
    return new ArrayList<>(METHODS.values());
  }
}
