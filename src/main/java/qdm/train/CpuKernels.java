package qdm.train;

import com.google.gson.JsonObject;
import java.util.Locale;
import java.util.Map;

/**
 * Which CPU code paths libtorch uses, as set by the two environment variables that choose them:
 * {@code ATEN_CPU_CAPABILITY} (PyTorch's own vectorised kernels: softmax, norms, reductions) and
 * {@code MKL_CBWR} (the code branch of MKL, which does the matrix products). Left unset, both take
 * the widest instruction set the CPU offers, so the same seeded training run rounds differently on
 * a CPU with AVX-512 than on one without, or on another vendor's. {@code jobs/qdm} pins both to
 * AVX2 for the training commands; libtorch reads them once, when it loads, so they must be set
 * before the JVM starts.
 */
public record CpuKernels(String atenCapability, String mklBranch) {
  /** Environment variable of PyTorch's kernel dispatch. */
  public static final String ATEN = "ATEN_CPU_CAPABILITY";

  /** Environment variable of MKL's conditional numerical reproducibility branch. */
  public static final String MKL = "MKL_CBWR";

  /** The settings of this process (empty strings where unset). */
  public static CpuKernels current() {
    return of(System.getenv());
  }

  static CpuKernels of(Map<String, String> env) {
    return new CpuKernels(env.getOrDefault(ATEN, ""), env.getOrDefault(MKL, ""));
  }

  /** Whether both code paths are fixed rather than left to the CPU. */
  public boolean pinned() {
    return !atenCapability.isEmpty() && !mklBranch.isEmpty();
  }

  /** One line for a training log. */
  public String describe() {
    if (pinned()) {
      return String.format(
          Locale.ROOT, "cpu kernels: %s=%s, %s=%s", ATEN, atenCapability, MKL, mklBranch);
    }
    return String.format(
        Locale.ROOT,
        "cpu kernels: %s and %s not both set, so libtorch uses "
            + "this CPU's widest instruction set and the weights may differ in the last bits from "
            + "a run on another CPU (jobs/qdm sets %s=avx2 %s=AVX2 for training)",
        ATEN,
        MKL,
        ATEN,
        MKL);
  }

  /** For {@code training.json}: the values, "unset" where unset. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty(ATEN, atenCapability.isEmpty() ? "unset" : atenCapability);
    o.addProperty(MKL, mklBranch.isEmpty() ? "unset" : mklBranch);
    return o;
  }
}
