package qdm.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import qdm.tables.Schemas;

/**
 * A small synthetic audit held densely in memory (tokens x features, zeros included) and as the
 * sparse {@code codes} / {@code token_nll} tables the analysis reads. 6 windows x 50 positions, 40
 * features; activations are multiples of 0.25 so statistics tie.
 *
 * <ul>
 *   <li>features 0-29 fire often (5-60% of tokens), 30-35 in at most 6 tokens (inactive at a 2%
 *       threshold), 36-39 never;
 *   <li>{@code copy}: exactly the reference (r = 1);
 *   <li>{@code noisy}: multiplicative noise growing with the feature id, plus spurious firings;
 *   <li>{@code dies}: like noisy, but features 3 and 4 never fire (r = 0);
 *   <li>{@code constant}: mild noise, but feature 5 is 0.7 at every token (constant, r = 0).
 * </ul>
 */
final class SyntheticAudit {
  static final int WINDOWS = 6;
  static final int LENGTH = 50;
  static final int TOKENS = WINDOWS * LENGTH;
  static final int FEATURES = 40;
  static final List<String> CONDITIONS = List.of("fp", "copy", "noisy", "dies", "constant");

  /** condition -> [token][feature] activations (float values, zeros included). */
  final Map<String, float[][]> dense = new LinkedHashMap<>();

  /** condition -> kind -> window -> NLLs of the scored positions. */
  final Map<String, Map<String, Map<Long, List<Double>>>> nll = new LinkedHashMap<>();

  SyntheticAudit(long seed) {
    Random rnd = new Random(seed);
    float[][] fp = new float[TOKENS][FEATURES];
    for (int f = 0; f < FEATURES; f++) {
      if (f < 30) {
        double p = 0.05 + 0.55 * rnd.nextDouble();
        for (int t = 0; t < TOKENS; t++) {
          if (rnd.nextDouble() < p) {
            fp[t][f] = quarter(rnd, f);
          }
        }
      } else if (f < 36) {
        int fires = 1 + (f - 30); // 1..6 tokens: rate <= 0.02, inactive
        for (int i = 0; i < fires; i++) {
          fp[rnd.nextInt(TOKENS)][f] = quarter(rnd, f);
        }
      }
    }
    dense.put("fp", fp);
    dense.put("copy", copy(fp));
    float[][] noisy = noisy(fp, rnd, 1.0);
    dense.put("noisy", noisy);
    float[][] dies = noisy(fp, rnd, 1.0);
    for (int t = 0; t < TOKENS; t++) {
      dies[t][3] = 0;
      dies[t][4] = 0;
    }
    dense.put("dies", dies);
    float[][] constant = noisy(fp, rnd, 0.3);
    for (int t = 0; t < TOKENS; t++) {
      constant[t][5] = 0.7f;
    }
    dense.put("constant", constant);

    for (String c : CONDITIONS) {
      Map<String, Map<Long, List<Double>>> kinds = new LinkedHashMap<>();
      double shift = CONDITIONS.indexOf(c) * 0.1;
      kinds.put(Schemas.CHUNK, windows(rnd, shift, LENGTH - 1));
      if (!c.equals("constant")) { // no sliding perplexity for this one
        kinds.put(Schemas.SLIDE, windows(rnd, shift, 20 + rnd.nextInt(10)));
      }
      nll.put(c, kinds);
    }
  }

  /** Window ids are not 0..n-1 on purpose. */
  static long windowId(int w) {
    return 3 + 7L * w;
  }

  static int token(int w, int position) {
    return w * LENGTH + position;
  }

  /** A multiple of 0.25 up to a feature-dependent maximum (so max_act varies and ties). */
  private static float quarter(Random rnd, int f) {
    return 0.25f * (1 + rnd.nextInt(4 + f % 13));
  }

  private static float[][] copy(float[][] a) {
    float[][] b = new float[a.length][];
    for (int i = 0; i < a.length; i++) {
      b[i] = a[i].clone();
    }
    return b;
  }

  /** Multiplicative noise of relative size scale * f / 30, and a few spurious firings. */
  private static float[][] noisy(float[][] fp, Random rnd, double scale) {
    float[][] y = new float[TOKENS][FEATURES];
    for (int t = 0; t < TOKENS; t++) {
      for (int f = 0; f < FEATURES; f++) {
        double sigma = scale * Math.min(f, 30) / 30.0 * 1.5;
        if (fp[t][f] > 0) {
          double v = fp[t][f] * (1 + sigma * rnd.nextGaussian());
          y[t][f] = v > 0 ? (float) v : 0f;
        } else if (f < 36 && rnd.nextDouble() < 0.02 * sigma) {
          y[t][f] = quarter(rnd, f);
        }
      }
    }
    return y;
  }

  private static Map<Long, List<Double>> windows(Random rnd, double shift, int scored) {
    Map<Long, List<Double>> m = new LinkedHashMap<>();
    for (int w = 0; w < WINDOWS; w++) {
      List<Double> xs = new ArrayList<>();
      int n = scored - (w % 3); // windows score different counts
      for (int i = 0; i < n; i++) {
        xs.add(2.0 + shift + rnd.nextDouble() * 3);
      }
      m.put(windowId(w), xs);
    }
    return m;
  }

  /** The sparse codes table: one row per non-zero activation. */
  Dataset<Row> codes(SparkSession spark) {
    List<Row> rows = new ArrayList<>();
    for (String c : CONDITIONS) {
      float[][] a = dense.get(c);
      for (int w = 0; w < WINDOWS; w++) {
        for (int p = 0; p < LENGTH; p++) {
          for (int f = 0; f < FEATURES; f++) {
            float v = a[token(w, p)][f];
            if (v != 0) {
              rows.add(RowFactory.create("sae", c, windowId(w), p, 1000 + p, f, v));
            }
          }
        }
      }
    }
    return spark.createDataFrame(rows, Schemas.CODES);
  }

  Dataset<Row> tokenNll(SparkSession spark) {
    List<Row> rows = new ArrayList<>();
    nll.forEach(
        (c, kinds) ->
            kinds.forEach(
                (kind, windows) ->
                    windows.forEach(
                        (w, xs) -> {
                          for (int i = 0; i < xs.size(); i++) {
                            rows.add(RowFactory.create(c, kind, w, i, xs.get(i)));
                          }
                        })));
    // NLL only, as a table from another tool would have it: the KL columns come out null
    return spark.createDataFrame(
        rows,
        new org.apache.spark.sql.types.StructType(
            java.util.Arrays.copyOf(Schemas.TOKEN_NLL.fields(), 5)));
  }

  static AnalysisSettings settings() {
    return settings(0);
  }

  static AnalysisSettings settings(long seed) {
    List<ConditionInfo> info =
        List.of(
            ConditionInfo.of("fp", "none"),
            new ConditionInfo("copy", "none", OptionalInt.empty(), OptionalDouble.empty()),
            new ConditionInfo("noisy", "rtn", OptionalInt.of(6), OptionalDouble.empty()),
            new ConditionInfo("dies", "prune", OptionalInt.empty(), OptionalDouble.of(0.3)),
            new ConditionInfo("constant", "rtn", OptionalInt.of(4), OptionalDouble.empty()));
    return new AnalysisSettings(
        "fp",
        FEATURES,
        0.02,
        0.9,
        0.5,
        List.of(
            new ConditionPair("noisy", "dies"),
            new ConditionPair("copy", "constant"),
            new ConditionPair("dies", "constant")),
        Optional.of("noisy"),
        5,
        seed,
        Optional.of("copy"),
        info);
  }
}
