package qdm.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import qdm.QdmException;
import qdm.io.TensorStore;

/**
 * How a checkpoint condition's weights differ from the reference's, tensor by tensor: what the
 * preflight lists ("changes the 28 decoder linear weights, leaves 11 tensors unchanged") and the
 * report tabulates, in the units {@code drift} uses for simulated compressions, {@code ||w_c -
 * w_ref|| / ||w_ref||} (Frobenius, float64). Both stores are streamed in blocks, so comparing a
 * large model needs two blocks of memory.
 */
public final class CheckpointDiff {
  private static final int BLOCK = 1 << 20;

  private CheckpointDiff() {}

  /** One tensor: its role, size and how far the checkpoint moved it. */
  public record Tensor(
      String name, TensorRole role, long elements, double relativeError, double maxAbsError) {
    public boolean changed() {
      return maxAbsError > 0;
    }
  }

  /**
   * The first way {@code checkpoint} is not a checkpoint of the model {@code specs} describe: a
   * missing tensor or a tensor of another shape; empty when every tensor is there.
   */
  public static Optional<String> firstMismatch(TensorStore checkpoint, List<TensorSpec> specs) {
    int problems = 0;
    String first = null;
    for (TensorSpec s : specs) {
      String name =
          checkpoint.contains(s.name())
              ? s.name()
              : s.tiedTo().filter(checkpoint::contains).orElse(null);
      String p = null;
      if (name == null) {
        p =
            "it has no tensor '"
                + s.name()
                + "' (the reference's is "
                + Arrays.toString(s.shape())
                + ")";
      } else if (!Arrays.equals(checkpoint.info(name).shape(), s.shape())) {
        p =
            "tensor '"
                + name
                + "' is "
                + checkpoint.info(name).shapeString()
                + " in the checkpoint but "
                + Arrays.toString(s.shape())
                + " in the reference";
      }
      if (p != null) {
        problems++;
        first = first == null ? p : first;
      }
    }
    if (first == null) {
      return Optional.empty();
    }
    return Optional.of(
        "not a checkpoint of the reference model: "
            + first
            + (problems > 1 ? " (and " + (problems - 1) + " more tensor(s) differ)" : ""));
  }

  /** Every distinct tensor of {@code specs} (a tied one once), reference vs checkpoint. */
  public static List<Tensor> of(
      TensorStore reference, TensorStore checkpoint, List<TensorSpec> specs) {
    List<Tensor> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    float[] a = new float[BLOCK];
    float[] b = new float[BLOCK];
    for (TensorSpec s : specs) {
      String r = reference.contains(s.name()) ? s.name() : s.tiedTo().orElseThrow();
      String c = checkpoint.contains(s.name()) ? s.name() : s.tiedTo().orElseThrow();
      if (!seen.add(r + "\u0000" + c)) {
        continue;
      }
      long n = reference.info(r).numel();
      double diff = 0;
      double norm = 0;
      double max = 0;
      for (long at = 0; at < n; at += BLOCK) {
        int len = (int) Math.min(BLOCK, n - at);
        reference.readFloats(r, at, a, 0, len);
        checkpoint.readFloats(c, at, b, 0, len);
        for (int i = 0; i < len; i++) {
          double d = (double) b[i] - a[i];
          diff += d * d;
          norm += (double) a[i] * a[i];
          max = Math.max(max, Math.abs(d));
        }
      }
      out.add(
          new Tensor(
              s.name(),
              s.role(),
              n,
              norm == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(diff / norm),
              max));
    }
    return out;
  }

  /** "changes 28 tensors (decoder linear x 28), leaves 11 unchanged (norm x 9, ...)". */
  public static String summary(List<Tensor> diffs) {
    Map<String, Integer> changed = new TreeMap<>();
    Map<String, Integer> same = new TreeMap<>();
    for (Tensor t : diffs) {
      String role = t.role().name().toLowerCase(Locale.ROOT).replace('_', ' ');
      (t.changed() ? changed : same).merge(role, 1, Integer::sum);
    }
    return "changes " + count(changed) + ", leaves " + count(same) + " unchanged";
  }

  private static String count(Map<String, Integer> byRole) {
    int n = byRole.values().stream().mapToInt(Integer::intValue).sum();
    if (n == 0) {
      return "no tensors";
    }
    List<String> parts = new ArrayList<>();
    byRole.forEach((role, k) -> parts.add(role + " x " + k));
    return n + " tensor(s) (" + String.join(", ", parts) + ")";
  }

  /** Fails when a checkpoint changes nothing at all: almost surely the wrong path. */
  public static void requireSomeChange(String path, List<Tensor> diffs) {
    if (diffs.stream().noneMatch(Tensor::changed)) {
      throw new QdmException(
          path
              + ": every tensor equals the reference's bit for bit; this "
              + "is the reference model, not a compressed copy of it");
    }
  }
}
