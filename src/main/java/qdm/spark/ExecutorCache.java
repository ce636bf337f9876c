package qdm.spark;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import qdm.compress.Compressed;
import qdm.condition.Condition;
import qdm.condition.ConditionWeights;
import qdm.condition.ReferenceModel;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.Placement;
import qdm.model.Processing;
import qdm.model.TorchEngine;
import qdm.model.Transformer;
import qdm.sae.Sae;
import qdm.sae.SaeFormat;

/**
 * What an executor JVM keeps between tasks: each base model and SAE loaded once per device (not per
 * partition, not per task), and each condition's compressed weights derived once from the base and
 * kept within a byte budget.
 *
 * <p>Tasks of one executor share it from several threads. Loading happens under a per-key lock so
 * concurrent tasks wait for one load instead of loading twice; a condition's weights are leased
 * while a task computes with them and only unleased entries are evicted.
 */
public final class ExecutorCache {
  private static final Logger LOG = LogManager.getLogger(ExecutorCache.class);
  private static final Map<Key, Loaded> LOADED = new ConcurrentHashMap<>();

  private ExecutorCache() {}

  /** Identity of a loaded base model + SAE on one device. */
  record Key(
      String modelDir,
      String weights,
      String processing,
      List<EncodeSpec.SaeSpec> saes,
      Placement placement) {}

  /** The loaded base model, SAE and condition cache for {@code spec} on {@code placement}. */
  static Loaded get(EncodeSpec spec, Placement placement) {
    Key key = new Key(spec.modelDir(), spec.weights(), spec.processing(), spec.saes(), placement);
    Loaded loaded = LOADED.computeIfAbsent(key, k -> new Loaded());
    loaded.ensureLoaded(spec, placement);
    return loaded;
  }

  /** Number of base models loaded in this JVM (tests check models are not reloaded). */
  static int loadCount() {
    return Loaded.LOADS.get();
  }

  /** A base model, its SAE and the derived weights of conditions. */
  static final class Loaded {
    static final java.util.concurrent.atomic.AtomicInteger LOADS =
        new java.util.concurrent.atomic.AtomicInteger();
    private NDManager root;
    private Model model;
    private ReferenceModel reference;
    private final Map<String, Sae> saes = new java.util.LinkedHashMap<>();
    private long budget;
    private final LinkedHashMap<String, Entry> conditions = new LinkedHashMap<>(16, 0.75f, true);

    synchronized void ensureLoaded(EncodeSpec spec, Placement placement) {
      if (model != null) {
        return;
      }
      long start = System.nanoTime();
      root = TorchEngine.newManager(placement.device());
      ModelFiles files =
          new ModelFiles(Path.of(spec.modelDir()), spec.weightsOverride().map(Path::of));
      Processing processing = Processing.parse(spec.processing());
      model = Model.load(files, root, placement.device(), placement.dtype(), processing);
      reference = new ReferenceModel(model, files, processing, root, placement);
      for (EncodeSpec.SaeSpec s : spec.saes()) {
        saes.put(
            s.name(),
            Sae.load(Path.of(s.path()), SaeFormat.parse(s.format()), Optional.of(s.hook()), root));
      }
      budget = spec.weightCacheBytes() > 0 ? spec.weightCacheBytes() : 2 * model.weights().bytes();
      LOADS.incrementAndGet();
      LOG.info(
          String.format(
              "loaded %s and %s on %s in %.1f s",
              spec.modelDir(),
              spec.saes().size() == 1
                  ? "SAE " + spec.saes().get(0).path()
                  : spec.saes().size() + " SAEs",
              placement,
              (System.nanoTime() - start) / 1e9));
    }

    Model model() {
      return model;
    }

    /** The SAEs by name, in config order. */
    Map<String, Sae> saes() {
      return saes;
    }

    /** The first SAE (the only one of single-SAE work: sliding NLL needs none). */
    Sae sae() {
      return saes.values().iterator().next();
    }

    /** The manager the base model lives under (per-batch managers are made under it). */
    NDManager manager() {
      return root;
    }

    /**
     * The forward pass of {@code condition} over this base model, derived on first use (keyed by
     * its spec, so the null run shares the reference's entry); the caller must {@link Lease#close()
     * close} the lease when done.
     */
    Lease lease(Condition condition) {
      String key = condition.spec();
      Entry e;
      synchronized (this) {
        e = conditions.get(key);
        if (e == null) {
          e = new Entry();
          conditions.put(key, e);
        }
        e.users++;
      }
      try {
        synchronized (e) {
          if (e.transformer == null) {
            long start = System.nanoTime();
            e.compressed = ConditionWeights.derive(condition, reference);
            e.transformer = model.withWeights(e.compressed.weights());
            e.bytes = e.compressed.weights().bytes() - sharedBytes(e.compressed);
            if (!condition.isReference()) {
              LOG.info(
                  String.format(
                      "%s (%s) in %.1f s",
                      e.compressed.report().summary(),
                      condition.spec(),
                      (System.nanoTime() - start) / 1e9));
            }
          }
        }
      } catch (RuntimeException ex) {
        release(e);
        throw ex;
      }
      Entry leased = e;
      evictOverBudget();
      return new Lease(e.transformer, () -> release(leased));
    }

    private long sharedBytes(Compressed c) {
      long shared = 0;
      for (String name : c.weights().names()) {
        if (c.weights().get(name) == model.weights().get(name)) {
          var a = c.weights().get(name);
          shared += a.size() * a.getDataType().getNumOfBytes();
        }
      }
      return shared;
    }

    private synchronized void release(Entry e) {
      e.users--;
      evictOverBudget();
    }

    private synchronized void evictOverBudget() {
      long total = conditions.values().stream().mapToLong(x -> x.bytes).sum();
      List<String> evict = new ArrayList<>();
      for (Map.Entry<String, Entry> x : conditions.entrySet()) { // least recently used first
        if (total <= budget) {
          break;
        }
        if (x.getValue().users == 0 && x.getValue().compressed != null && x.getValue().bytes > 0) {
          evict.add(x.getKey());
          total -= x.getValue().bytes;
        }
      }
      for (String k : evict) {
        Entry e = conditions.remove(k);
        e.compressed.close();
      }
    }
  }

  /** A condition's weights as cached. */
  private static final class Entry {
    int users;
    long bytes;
    Compressed compressed;
    Transformer transformer;
  }

  /** A forward pass in use by a task. */
  record Lease(Transformer transformer, Runnable onClose) implements AutoCloseable {
    @Override
    public void close() {
      onClose.run();
    }
  }
}
