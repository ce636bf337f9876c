package qdm.sae;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import qdm.model.HookPoint;

/**
 * SAEs of any shape with random weights, for benchmarks: no files needed, and a realistic sparsity
 * so that extracting the codes costs what it costs on a trained SAE.
 *
 * <p>W_enc and W_dec are normal with std 1/sqrt(d_in) and b_dec is 0, so on standard-normal inputs
 * every pre-activation is close to N(b_enc, 1). The cut is placed at the normal quantile that lets
 * about {@code targetL0} of the {@code d_sae} features fire per token: b_enc = -z for {@code
 * standard}, threshold z for {@code jumprelu}, k = targetL0 for {@code topk}.
 */
public final class RandomSae {
  private RandomSae() {}

  /** A random SAE at {@code blocks.0.hook_resid_post} under a child of {@code parent}. */
  public static Sae create(
      String architecture, int dIn, int dSae, int targetL0, NDManager parent, long seed) {
    if (targetL0 < 1 || targetL0 >= dSae) {
      throw new IllegalArgumentException("target L0 " + targetL0 + " outside 1.." + (dSae - 1));
    }
    boolean topk = architecture.equals(SaeArchitectures.TOPK);
    SaeConfig config =
        new SaeConfig(
            Path.of("random-" + architecture),
            SaeFormat.SAELENS,
            architecture,
            dIn,
            dSae,
            HookPoint.residPost(0),
            Optional.empty(),
            true,
            topk ? OptionalInt.of(targetL0) : OptionalInt.empty(),
            1.0,
            SaeInput.PLAIN);
    float z = (float) upperQuantile((double) targetL0 / dSae);
    NDManager m = parent.newSubManager();
    try {
      m.getEngine().setRandomSeed((int) seed);
      float std = (float) (1 / Math.sqrt(dIn));
      SaeTensors w =
          new SaeTensors(
              m,
              m.randomNormal(0f, std, new Shape(dIn, dSae), DataType.FLOAT32),
              architecture.equals(SaeArchitectures.STANDARD)
                  ? m.full(new Shape(dSae), -z)
                  : m.zeros(new Shape(dSae)),
              m.randomNormal(0f, std, new Shape(dSae, dIn), DataType.FLOAT32),
              m.zeros(new Shape(dIn)),
              architecture.equals(SaeArchitectures.JUMPRELU)
                  ? Optional.of(m.full(new Shape(dSae), z))
                  : Optional.empty());
      return SaeArchitectures.build(config, w);
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
  }

  /** z with P(N(0, 1) > z) = p, by bisection on the normal tail. */
  static double upperQuantile(double p) {
    double lo = -10;
    double hi = 10;
    for (int i = 0; i < 100; i++) {
      double mid = (lo + hi) / 2;
      if (0.5 * erfc(mid / Math.sqrt(2)) > p) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return (lo + hi) / 2;
  }

  /** The complementary error function (Numerical Recipes' erfcc, relative error below 1.2e-7). */
  static double erfc(double x) {
    double z = Math.abs(x);
    double t = 1 / (1 + 0.5 * z);
    double r =
        t
            * Math.exp(
                -z * z
                    - 1.26551223
                    + t
                        * (1.00002368
                            + t
                                * (0.37409196
                                    + t
                                        * (0.09678418
                                            + t
                                                * (-0.18628806
                                                    + t
                                                        * (0.27886807
                                                            + t
                                                                * (-1.13520398
                                                                    + t
                                                                        * (1.48851587
                                                                            + t
                                                                                * (-0.82215223
                                                                                    + t
                                                                                        * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  }
}
