package qdm.compress;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import qdm.model.TensorRole;

/**
 * The parameter values of one compression, keyed by {@link Param#key()}: what the grammar reads
 * from either syntax and what a compression gives back to be rendered and named.
 */
public record Settings(Map<String, Object> values) {

  public Settings {
    values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  /** Settings from alternating keys and values. */
  public static Settings of(Object... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return new Settings(m);
  }

  public boolean has(String key) {
    return values.containsKey(key);
  }

  public Object get(String key) {
    if (!values.containsKey(key)) {
      throw new IllegalArgumentException("no setting '" + key + "' in " + values.keySet());
    }
    return values.get(key);
  }

  public int integer(String key) {
    return ((Number) get(key)).intValue();
  }

  public double fraction(String key) {
    return ((Number) get(key)).doubleValue();
  }

  public boolean flag(String key) {
    return (Boolean) get(key);
  }

  @SuppressWarnings("unchecked")
  public Set<TensorRole> roles(String key) {
    return (Set<TensorRole>) get(key);
  }

  public Convention convention(String key) {
    return (Convention) get(key);
  }
}
