package qdm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * A model's weights on one device: named NDArrays (Hugging Face names) with their roles.
 *
 * <p>The arrays this instance created live under its own {@link NDManager}; closing it frees them.
 * A derived set ({@link #derive}) shares every tensor it does not replace with its parent, so a
 * compressed copy costs only the bytes of the tensors compression changed, and the parent must stay
 * open as long as the derived set is in use.
 */
public final class Weights implements AutoCloseable {
  private final NDManager manager;
  private final Map<String, NDArray> arrays;
  private final Map<String, TensorSpec> specs;

  /** {@code specs} describes every array by name (role, TransformerLens layout). */
  Weights(NDManager manager, Map<String, NDArray> arrays, Map<String, TensorSpec> specs) {
    this.manager = manager;
    this.arrays = Collections.unmodifiableMap(new LinkedHashMap<>(arrays));
    this.specs = Collections.unmodifiableMap(new LinkedHashMap<>(specs));
    for (String name : arrays.keySet()) {
      if (!specs.containsKey(name)) {
        throw new IllegalArgumentException("no spec for weight " + name);
      }
    }
  }

  /** The manager that owns the arrays this set created (a parent of per-batch managers). */
  public NDManager manager() {
    return manager;
  }

  public Set<String> names() {
    return arrays.keySet();
  }

  public NDArray get(String name) {
    NDArray a = arrays.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no weight named " + name);
    }
    return a;
  }

  public TensorRole role(String name) {
    TensorSpec s = specs.get(name);
    return s == null ? null : s.role();
  }

  /** The TransformerLens parameters tensor {@code name} holds. */
  public TlLayout tl(String name) {
    TensorSpec s = specs.get(name);
    if (s == null) {
      throw new IllegalArgumentException("no weight named " + name);
    }
    return s.tl();
  }

  /** True if a tensor of this name is in the set. */
  public boolean has(String name) {
    return arrays.containsKey(name);
  }

  /**
   * A set with other arrays and specs, created under a new child of this set's manager: the result
   * of a transform that changes the layout (TransformerLens processing adds tensors). {@code build}
   * creates its arrays under the given manager and may reuse this set's arrays.
   */
  public Weights rebuild(
      java.util.function.Function<NDManager, Map<String, NDArray>> build,
      Map<String, TensorSpec> newSpecs) {
    NDManager child = manager.newSubManager();
    try {
      return new Weights(child, build.apply(child), newSpecs);
    } catch (RuntimeException e) {
      child.close();
      throw e;
    }
  }

  /** Bytes of all distinct arrays (shared tied tensors counted once). */
  public long bytes() {
    return arrays.values().stream()
        .distinct()
        .mapToLong(a -> a.size() * a.getDataType().getNumOfBytes())
        .sum();
  }

  /**
   * A new set where each tensor selected by {@code replace} is swapped for the array it returns
   * (created under the new set's manager, a child of this one's); all other tensors are shared.
   *
   * @param replace given the tensor name and the new manager, returns the replacement, or null to
   *     keep the tensor as it is
   */
  public Weights derive(BiFunction<String, NDManager, NDArray> replace) {
    NDManager child = manager.newSubManager();
    try {
      Map<String, NDArray> next = new LinkedHashMap<>();
      for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
        NDArray r = replace.apply(e.getKey(), child);
        if (r == null) {
          next.put(e.getKey(), e.getValue());
        } else {
          r.attach(child);
          next.put(e.getKey(), r);
        }
      }
      return new Weights(child, next, specs);
    } catch (RuntimeException e) {
      child.close();
      throw e;
    }
  }

  /**
   * Replaces this set by another, consuming it: {@code build} computes the new arrays from this
   * set's (it may return some of them unchanged); they move to a new manager beside this one (same
   * parent, same device), and this set is closed, freeing every array the new set does not keep
   * along with {@code build}'s temporaries. For transforms that change almost every tensor at load
   * time (TransformerLens processing), where a derived set would keep both.
   */
  public Weights replaceWith(
      java.util.function.Function<Weights, Map<String, NDArray>> build,
      Map<String, TensorSpec> newSpecs) {
    NDManager sibling = manager.getParentManager().newSubManager(manager.getDevice());
    try {
      Map<String, NDArray> next = build.apply(this);
      for (NDArray a : next.values()) {
        a.attach(sibling);
      }
      Weights out = new Weights(sibling, next, newSpecs);
      close();
      return out;
    } catch (RuntimeException e) {
      sibling.close();
      throw e;
    }
  }

  /** The spec of every tensor, by name. */
  public Map<String, TensorSpec> specs() {
    return specs;
  }

  @Override
  public void close() {
    manager.close();
  }
}
