package qdm.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.compress.Compressed;
import qdm.condition.ConditionSyntax;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.io.HostTensor;
import qdm.io.SafetensorsFile;
import qdm.io.SafetensorsWriter;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.Placement;
import qdm.model.TorchEngine;
import qdm.model.neox.NaiveGptNeoX;
import qdm.testing.LocalSpark;
import qdm.testing.TinyAudit;

/**
 * The measurements of the one pass, recomputed from their definitions with nothing of the pass: a
 * double-precision GPT-NeoX written out loop by loop ({@link NaiveGptNeoX}) for the logits of the
 * reference and of an RTN-3 copy (its weights written to a file), a naive ReLU SAE, a naive splice
 * of the SAE's reconstruction (and of zeros) into the residual stream, numpy-style linear
 * percentiles, and dense per-feature sums over the published codes.
 */
class MeasurementsTest {
  @TempDir static Path tmp;
  static TinyAudit audit;
  static SparkSession spark;
  static RunLayout layout;
  static final int LENGTH = 32;

  @BeforeAll
  static void runOnce() throws IOException {
    audit = TinyAudit.create(tmp, 1200);
    spark = LocalSpark.get();
    // the same SAE weights, declared at blocks.0 (widths match: both hooks are the residual)
    Path early = Files.createDirectories(tmp.resolve("sae-early"));
    Files.copy(
        audit.sae().resolve("sae_weights.safetensors"), early.resolve("sae_weights.safetensors"));
    Files.writeString(
        early.resolve("cfg.json"),
        Files.readString(audit.sae().resolve("cfg.json"))
            .replace(TinyAudit.HOOK, "blocks.0.hook_resid_post"));
    String text =
        audit
            .config("m1", 384)
            .replaceAll(
                "(?s)conditions = \\[.*?\\n\\s*\\]",
                "conditions = [ { name = fp, method = none }, { name = rtn3, method = rtn, bits = 3 } ]")
            .replace("sliding {", "sliding { enabled = false, ")
            // two SAEs on the same passes: the same weights read at two hooks
            .replace(
                "sae.path = \"" + audit.sae() + "\"",
                "saes = [ { name = main, path = \""
                    + audit.sae()
                    + "\" }, { name = early, path = \""
                    + early
                    + "\" } ]");
    AuditConfig config = AuditConfigs.parse(text, List.of(), "m1.conf");
    AuditJob job = new AuditJob(spark, config, Preflight.check(config), false);
    job.run(List.of());
    layout = job.layout();
  }

  /** A published table; per-SAE tables restricted to the SAE named {@code main}. */
  static Dataset<Row> table(String name) {
    Dataset<Row> t = spark.read().parquet(layout.table(name).toString());
    return Arrays.asList(t.columns()).contains("sae") ? t.where("sae = 'main'") : t;
  }

  /** The naive model of a condition: the reference's files, or RTN-3 weights written out. */
  static NaiveGptNeoX naive(String condition) throws IOException {
    Path config = audit.model().resolve("config.json");
    if (condition.equals("fp")) {
      return new NaiveGptNeoX(config, audit.model().resolve("model.safetensors"));
    }
    Path file = tmp.resolve("rtn3.safetensors");
    if (!Files.exists(file)) {
      try (NDManager root = TorchEngine.newManager(Placement.CPU.device());
          Model model =
              Model.load(
                  ModelFiles.of(audit.model()),
                  root,
                  Placement.CPU.device(),
                  Placement.CPU.dtype());
          Compressed rtn3 = ConditionSyntax.compression("rtn:3").apply(model.weights())) {
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile original =
            SafetensorsFile.open(audit.model().resolve("model.safetensors"))) {
          for (String name : original.names()) {
            NDArray a = rtn3.weights().has(name) ? rtn3.weights().get(name) : null;
            w.add(
                name,
                a == null
                    ? new HostTensor(original.info(name).shape(), original.readFloats(name))
                    : new HostTensor(a.getShape().getShape(), a.toFloatArray()));
          }
        }
        w.write(file);
      }
    }
    return new NaiveGptNeoX(config, file);
  }

  /** The SAE's weights, read back from its file. */
  record NaiveSae(int dIn, int dSae, float[] wEnc, float[] bEnc, float[] wDec, float[] bDec) {
    static NaiveSae read(Path dir) {
      try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("sae_weights.safetensors"))) {
        float[] bDec = f.readFloats("b_dec");
        float[] bEnc = f.readFloats("b_enc");
        return new NaiveSae(
            bDec.length, bEnc.length, f.readFloats("W_enc"), bEnc, f.readFloats("W_dec"), bDec);
      }
    }

    /** relu((x - b_dec) W_enc + b_enc). */
    double[] encode(double[] x) {
      double[] a = new double[dSae];
      for (int f = 0; f < dSae; f++) {
        double s = bEnc[f];
        for (int i = 0; i < dIn; i++) {
          s += (x[i] - bDec[i]) * wEnc[i * dSae + f];
        }
        a[f] = Math.max(0, s);
      }
      return a;
    }

    /** a W_dec + b_dec. */
    double[] decode(double[] a) {
      double[] x = new double[dIn];
      for (int i = 0; i < dIn; i++) {
        double s = bDec[i];
        for (int f = 0; f < dSae; f++) {
          s += a[f] * wDec[f * dIn + i];
        }
        x[i] = s;
      }
      return x;
    }
  }

  static double[] logSoftmax(double[] z) {
    double max = Arrays.stream(z).max().orElseThrow();
    double s = 0;
    for (double v : z) {
      s += Math.exp(v - max);
    }
    double lse = max + Math.log(s);
    return Arrays.stream(z).map(v -> v - lse).toArray();
  }

  static int argmax(double[] z) {
    int best = 0;
    for (int i = 1; i < z.length; i++) {
      if (z[i] > z[best]) {
        best = i;
      }
    }
    return best;
  }

  /** numpy.percentile(values, q), linear interpolation between closest ranks. */
  static double percentile(double[] values, double q) {
    double[] s = values.clone();
    Arrays.sort(s);
    double rank = q / 100 * (s.length - 1);
    int lo = (int) Math.floor(rank);
    int hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (rank - lo) * (s[hi] - s[lo]);
  }

  static double nllAfter(NaiveGptNeoX m, long[] ids, double[][] residual, int t) {
    return m.forwardAfter(ids, 1, residual).nll()[t];
  }

  @Test
  void everyMeasurementMatchesItsDefinitionComputedNaively() throws IOException {
    List<long[]> windows = new ArrayList<>();
    for (Row w : table("windows").where("kind = 'chunk'").orderBy("window_id").collectAsList()) {
      windows.add(Arrays.stream(EncodeFunction.tokens(w)).asLongStream().toArray());
    }
    NaiveSae sae = NaiveSae.read(audit.sae());
    NaiveGptNeoX fp = naive("fp");
    Map<String, Row> conditions = new HashMap<>();
    for (Row r : table("conditions").collectAsList()) {
      conditions.put(r.getAs("condition"), r);
    }
    for (String condition : List.of("fp", "rtn3")) {
      NaiveGptNeoX model = naive(condition);
      List<Double> kl = new ArrayList<>();
      List<Double> dp = new ArrayList<>();
      int top1 = 0;
      double clean = 0;
      double spliced = 0;
      double zeroed = 0;
      double squaredError = 0;
      double cos = 0;
      double l0 = 0;
      List<double[]> xs = new ArrayList<>();
      Map<String, double[]> perToken = new HashMap<>();
      for (int w = 0; w < windows.size(); w++) {
        long[] ids = windows.get(w);
        NaiveGptNeoX.Output ref = fp.forward(ids);
        NaiveGptNeoX.Output out = model.forward(ids);
        double[][] x = out.hiddenStates()[2]; // blocks.1.hook_resid_post
        double[][] xHat = new double[LENGTH][];
        for (int t = 0; t < LENGTH; t++) {
          double[] a = sae.encode(x[t]);
          xHat[t] = sae.decode(a);
          l0 += Arrays.stream(a).filter(v -> v != 0).count();
          double dot = 0;
          double nx = 0;
          double nh = 0;
          for (int i = 0; i < x[t].length; i++) {
            double d = x[t][i] - xHat[t][i];
            squaredError += d * d;
            dot += x[t][i] * xHat[t][i];
            nx += x[t][i] * x[t][i];
            nh += xHat[t][i] * xHat[t][i];
          }
          cos += dot / Math.sqrt(nx * nh);
          xs.add(x[t]);
        }
        double[] withSae = model.forwardAfter(ids, 1, xHat).nll();
        double[] withZeros = model.forwardAfter(ids, 1, new double[LENGTH][x[0].length]).nll();
        for (int t = 0; t < LENGTH - 1; t++) {
          double[] lr = logSoftmax(ref.logits()[t]);
          double[] lc = logSoftmax(out.logits()[t]);
          double k = 0;
          for (int v = 0; v < lr.length; v++) {
            k += Math.exp(lr[v]) * (lr[v] - lc[v]);
          }
          int y = (int) ids[t + 1];
          double d = Math.exp(lc[y]) - Math.exp(lr[y]);
          boolean same = argmax(lr) == argmax(lc);
          kl.add(k);
          dp.add(d);
          top1 += same ? 1 : 0;
          clean += out.nll()[t];
          spliced += withSae[t];
          zeroed += withZeros[t];
          perToken.put(w + ":" + t, new double[] {out.nll()[t], k, d, same ? 1 : 0});
        }
      }
      // per token: the token_nll rows
      List<Row> rows =
          table("token_nll")
              .where("condition = '" + condition + "' and kind = 'chunk'")
              .collectAsList();
      assertEquals(perToken.size(), rows.size());
      for (Row r : rows) {
        double[] want = perToken.get(r.getAs("window_id") + ":" + r.getAs("position"));
        String where = condition + " " + r;
        assertEquals(want[0], r.<Double>getAs("nll"), 1e-4, where);
        assertEquals(want[1], r.<Double>getAs("kl"), 1e-4 * Math.max(1, want[1]), where);
        assertEquals(want[2], r.<Double>getAs("delta_p"), 1e-5, where);
        if (Math.abs(want[2]) > 1e-3 || condition.equals("fp")) {
          assertEquals(want[3] == 1, r.<Boolean>getAs("top1_same"), where);
        }
      }
      // per condition: the conditions row
      Row c = conditions.get(condition);
      double[] k = kl.stream().mapToDouble(Double::doubleValue).toArray();
      double[] d = dp.stream().mapToDouble(Double::doubleValue).toArray();
      int n = k.length;
      double tol = condition.equals("fp") ? 0 : 1e-4;
      assertEquals(Arrays.stream(k).average().orElseThrow(), c.<Double>getAs("kl_mean"), tol);
      assertEquals(percentile(k, 50), c.<Double>getAs("kl_median"), tol);
      assertEquals(percentile(k, 99), c.<Double>getAs("kl_p99"), tol);
      assertEquals(Arrays.stream(k).max().orElseThrow(), c.<Double>getAs("kl_max"), tol);
      assertEquals(Arrays.stream(d).average().orElseThrow(), c.<Double>getAs("delta_p_mean"), 1e-5);
      assertEquals(
          Math.sqrt(Arrays.stream(d).map(v -> v * v).sum() / n),
          c.<Double>getAs("delta_p_rms"),
          1e-5);
      assertEquals(100.0 * top1 / n, c.<Double>getAs("top1_same_pct"), 100.0 / n + 1e-9);
      if (condition.equals("fp")) {
        assertEquals(0.0, c.<Double>getAs("kl_max"));
        assertEquals(100.0, c.<Double>getAs("top1_same_pct"));
      } else {
        assertTrue(c.<Double>getAs("kl_mean") > 1e-3, "rtn3 moves the distribution");
      }
      double[] mean = new double[xs.get(0).length];
      for (double[] x : xs) {
        for (int i = 0; i < mean.length; i++) {
          mean[i] += x[i] / xs.size();
        }
      }
      double total = 0;
      for (double[] x : xs) {
        for (int i = 0; i < mean.length; i++) {
          total += (x[i] - mean[i]) * (x[i] - mean[i]);
        }
      }
      int positions = xs.size();
      assertEquals(squaredError / total, c.<Double>getAs("sae_fvu"), 1e-4, condition + " fvu");
      assertEquals(cos / positions, c.<Double>getAs("sae_cos"), 1e-5, condition + " cos");
      assertEquals(l0 / positions, c.<Double>getAs("sae_l0"), 0.05, condition + " l0");
      double score = (zeroed - spliced) / (zeroed - clean);
      assertEquals(score, c.<Double>getAs("ce_loss_score"), 1e-4, condition + " ce_loss_score");
    }
    featureColumnsMatchDenseSumsOverTheCodes();
  }

  /**
   * The second SAE (the same weights at blocks.0.hook_resid_post), from the same passes: its
   * per-feature Pearson r and FVU against a naive float64 recomputation at its own hook, and the
   * condition-level columns repeated on its rows.
   */
  @Test
  void aSecondSaeIsMeasuredAtItsOwnHook() throws IOException {
    NaiveSae sae = NaiveSae.read(audit.sae());
    NaiveGptNeoX fp = naive("fp");
    NaiveGptNeoX rtn3 = naive("rtn3");
    List<double[]> x = new ArrayList<>();
    List<double[]> y = new ArrayList<>();
    List<double[]> inputs = new ArrayList<>();
    List<double[]> recon = new ArrayList<>();
    for (Row w : table("windows").where("kind = 'chunk'").orderBy("window_id").collectAsList()) {
      long[] ids = Arrays.stream(EncodeFunction.tokens(w)).asLongStream().toArray();
      double[][] hx = fp.forward(ids).hiddenStates()[1]; // blocks.0.hook_resid_post
      double[][] hy = rtn3.forward(ids).hiddenStates()[1];
      for (int t = 0; t < LENGTH; t++) {
        x.add(sae.encode(hx[t]));
        double[] codes = sae.encode(hy[t]);
        y.add(codes);
        inputs.add(hy[t]);
        recon.add(sae.decode(codes));
      }
    }
    Dataset<Row> all = spark.read().parquet(layout.table("feature_survival").toString());
    Map<Integer, Double> got = new HashMap<>();
    for (Row r : all.where("sae = 'early' and condition = 'rtn3'").collectAsList()) {
      got.put(r.getAs("feature"), r.getAs("pearson"));
    }
    assertEquals(TinyAudit.D_SAE, got.size());
    int n = x.size();
    int compared = 0;
    for (int f = 0; f < TinyAudit.D_SAE; f++) {
      double sx = 0;
      double sy = 0;
      double sxx = 0;
      double syy = 0;
      double sxy = 0;
      for (int t = 0; t < n; t++) {
        double a = x.get(t)[f];
        double b = y.get(t)[f];
        sx += a;
        sy += b;
        sxx += a * a;
        syy += b * b;
        sxy += a * b;
      }
      double vx = n * sxx - sx * sx;
      double vy = n * syy - sy * sy;
      if (vx <= 1e-9 * n * sxx || vy <= 1e-9 * n * syy) {
        continue; // constant (or nearly) on a side: r is defined by convention there
      }
      double r = (n * sxy - sx * sy) / Math.sqrt(vx * vy);
      assertEquals(r, got.get(f), 1e-4, "early feature " + f);
      compared++;
    }
    assertTrue(compared > TinyAudit.D_SAE / 4, "enough features fire at blocks.0: " + compared);
    // FVU of the second SAE on rtn3's own activations
    int d = inputs.get(0).length;
    double[] mean = new double[d];
    for (double[] v : inputs) {
      for (int i = 0; i < d; i++) {
        mean[i] += v[i] / n;
      }
    }
    double err = 0;
    double total = 0;
    for (int t = 0; t < n; t++) {
      for (int i = 0; i < d; i++) {
        double e = inputs.get(t)[i] - recon.get(t)[i];
        err += e * e;
        total += (inputs.get(t)[i] - mean[i]) * (inputs.get(t)[i] - mean[i]);
      }
    }
    Dataset<Row> conditions = spark.read().parquet(layout.table("conditions").toString());
    Row early = conditions.where("sae = 'early' and condition = 'rtn3'").first();
    Row main = conditions.where("sae = 'main' and condition = 'rtn3'").first();
    assertEquals(err / total, early.<Double>getAs("sae_fvu"), 1e-4, "early fvu");
    for (String column : List.of("ppl_chunked", "kl_mean", "delta_p_mean", "top1_same_pct")) {
      assertEquals(main.<Double>getAs(column), early.<Double>getAs(column), 0.0, column);
    }
    assertEquals(
        2, spark.read().parquet(layout.table("codes").toString()).select("sae").distinct().count());
  }

  /**
   * Every stability row against the whole analysis recomputed naively from the dense published
   * codes on that row's windows (subsets from stability_windows), the threshold grid against the
   * full run's r, and the bootstrap bounds against a naive resampling with the same draws.
   */
  @Test
  void stabilityRowsMatchANaiveAnalysisOfTheirWindows() {
    long windows = table("windows").where("kind = 'chunk'").count();
    long tokens = windows * LENGTH;
    double[][] x = dense("fp", tokens);
    double[][] y = dense("rtn3", tokens);
    Map<String, List<Long>> subsets = new HashMap<>();
    for (Row r :
        spark.read().parquet(layout.table("stability_windows").toString()).collectAsList()) {
      subsets.computeIfAbsent(r.getAs("param"), k -> new ArrayList<>()).add(r.getAs("window_id"));
    }
    assertEquals(3, subsets.size());
    List<Row> rows = table("stability").where("condition = 'rtn3'").collectAsList();
    int checked = 0;
    for (Row r : rows) {
      String check = r.getAs("check");
      String param = r.getAs("param");
      List<Long> set = new ArrayList<>();
      if (check.equals("budget")) {
        for (long w = 0; w < (long) Math.floor(Double.parseDouble(param) * windows); w++) {
          set.add(w);
        }
      } else if (check.equals("subset")) {
        set = subsets.get(param);
        assertEquals((int) Math.floor(0.5 * windows), set.size(), "subset size");
      } else {
        continue;
      }
      assertEquals(set.size(), r.<Integer>getAs("windows"), check + " " + param);
      int[] multiplicity = new int[(int) windows];
      set.forEach(w -> multiplicity[(int) (long) w]++);
      double[] want = naiveSummary(x, y, multiplicity);
      String where = check + " " + param;
      assertEquals(want[0], r.<Double>getAs("survived_pct"), 1e-9, where);
      assertEquals(want[1], r.<Double>getAs("blurred_pct"), 1e-9, where);
      assertEquals(want[2], r.<Double>getAs("damaged_pct"), 1e-9, where);
      assertEquals(want[3], r.<Double>getAs("mean_r"), 1e-6, where);
      checked++;
    }
    assertEquals(6, checked, "3 budgets and 3 subsets");
    // thresholds: the full run's r of active features, reclassified
    List<Row> active =
        table("feature_survival").where("condition = 'rtn3' and active").collectAsList();
    for (Row r : rows) {
      if (!r.getAs("check").equals("threshold")) {
        continue;
      }
      String[] sd = ((String) r.getAs("param")).split("/");
      double sv = Double.parseDouble(sd[0]);
      double dm = Double.parseDouble(sd[1]);
      assertTrue(dm < sv, "pairs with damaged >= survived are skipped");
      long survived = active.stream().filter(a -> a.<Double>getAs("pearson") > sv).count();
      long damaged = active.stream().filter(a -> a.<Double>getAs("pearson") < dm).count();
      assertEquals(100.0 * survived / active.size(), r.<Double>getAs("survived_pct"), 1e-9);
      assertEquals(100.0 * damaged / active.size(), r.<Double>getAs("damaged_pct"), 1e-9);
      assertEquals(windows, (long) r.<Integer>getAs("windows"));
    }
    assertEquals(4 * 5, rows.stream().filter(r -> r.getAs("check").equals("threshold")).count());
    // the bootstrap: the same draws, resampled naively with the full run's active set
    java.util.SplittableRandom random = new java.util.SplittableRandom(0);
    double[][] samples = new double[3][200];
    boolean[] fixed = new boolean[TinyAudit.D_SAE];
    for (Row a : active) {
      fixed[a.<Integer>getAs("feature")] = true;
    }
    for (int b = 0; b < 200; b++) {
      int[] m = new int[(int) windows];
      for (int i = 0; i < windows; i++) {
        m[random.nextInt((int) windows)]++;
      }
      double[] v = naiveSummary(x, y, m, fixed);
      samples[0][b] = v[0];
      samples[1][b] = v[2];
      samples[2][b] = v[3];
    }
    Row c = table("conditions").where("condition = 'rtn3'").first();
    assertEquals(percentile(samples[0], 2.5), c.<Double>getAs("survived_pct_lo"), 1e-9);
    assertEquals(percentile(samples[0], 97.5), c.<Double>getAs("survived_pct_hi"), 1e-9);
    assertEquals(percentile(samples[1], 2.5), c.<Double>getAs("damaged_pct_lo"), 1e-9);
    assertEquals(percentile(samples[1], 97.5), c.<Double>getAs("damaged_pct_hi"), 1e-9);
    assertEquals(percentile(samples[2], 2.5), c.<Double>getAs("mean_r_lo"), 1e-6);
    assertEquals(percentile(samples[2], 97.5), c.<Double>getAs("mean_r_hi"), 1e-6);
    assertTrue(c.getAs("stable") != null, "budgets and subsets ran");
    Row fp = table("conditions").where("condition = 'fp'").first();
    assertEquals(100.0, fp.<Double>getAs("survived_pct_lo"));
    assertEquals(true, fp.getAs("stable"));
  }

  private static double[] naiveSummary(double[][] x, double[][] y, int[] multiplicity) {
    return naiveSummary(x, y, multiplicity, null);
  }

  /**
   * {survived %, blurred %, damaged %, mean r} over the positions of windows counted by {@code
   * multiplicity}: the active set from those positions, or {@code fixed} when given.
   */
  private static double[] naiveSummary(
      double[][] x, double[][] y, int[] multiplicity, boolean[] fixed) {
    double n = 0;
    for (int m : multiplicity) {
      n += m * LENGTH;
    }
    int active = 0;
    int survived = 0;
    int blurred = 0;
    int damaged = 0;
    double sumR = 0;
    for (int f = 0; f < TinyAudit.D_SAE; f++) {
      double sx = 0;
      double sy = 0;
      double sxx = 0;
      double syy = 0;
      double sxy = 0;
      double firedX = 0;
      boolean constX = true;
      boolean constY = true;
      Double firstX = null;
      Double firstY = null;
      for (int w = 0; w < multiplicity.length; w++) {
        for (int t = 0; t < LENGTH && multiplicity[w] > 0; t++) {
          int m = multiplicity[w];
          double a = x[w * LENGTH + t][f];
          double b = y[w * LENGTH + t][f];
          sx += m * a;
          sy += m * b;
          sxx += m * a * a;
          syy += m * b * b;
          sxy += m * a * b;
          firedX += a > 0 ? m : 0;
          firstX = firstX == null ? a : firstX;
          firstY = firstY == null ? b : firstY;
          constX &= a == firstX;
          constY &= b == firstY;
        }
      }
      boolean isActive = fixed != null ? fixed[f] : firedX / n > 0.001;
      if (!isActive) {
        continue;
      }
      double r;
      if (constX || constY) {
        r = 0;
      } else {
        double num = n * sxy - sx * sy;
        double den = Math.sqrt(Math.max((n * sxx - sx * sx) * (n * syy - sy * sy), 1e-12));
        r = Math.max(-1, Math.min(1, num / den));
      }
      active++;
      sumR += r;
      if (r > 0.9) {
        survived++;
      } else if (r < 0.5) {
        damaged++;
      } else {
        blurred++;
      }
    }
    return new double[] {
      100.0 * survived / active, 100.0 * blurred / active, 100.0 * damaged / active, sumR / active
    };
  }

  /** cosine, firing_rate_c, firing_jaccard and the feature-set counts from the dense codes. */
  private void featureColumnsMatchDenseSumsOverTheCodes() {
    long tokens = table("windows").where("kind = 'chunk'").count() * LENGTH;
    double[][] x = dense("fp", tokens);
    double[][] y = dense("rtn3", tokens);
    Map<Integer, Row> survival = new HashMap<>();
    for (Row r : table("feature_survival").where("condition = 'rtn3'").collectAsList()) {
      survival.put(r.getAs("feature"), r);
    }
    long activeC = 0;
    long newActive = 0;
    long dead = 0;
    for (int f = 0; f < TinyAudit.D_SAE; f++) {
      double xy = 0;
      double xx = 0;
      double yy = 0;
      long both = 0;
      long either = 0;
      long firedX = 0;
      long firedY = 0;
      for (int t = 0; t < tokens; t++) {
        xy += x[t][f] * y[t][f];
        xx += x[t][f] * x[t][f];
        yy += y[t][f] * y[t][f];
        both += x[t][f] > 0 && y[t][f] > 0 ? 1 : 0;
        either += x[t][f] > 0 || y[t][f] > 0 ? 1 : 0;
        firedX += x[t][f] > 0 ? 1 : 0;
        firedY += y[t][f] > 0 ? 1 : 0;
      }
      Row r = survival.get(f);
      double cosine = xx == 0 || yy == 0 ? 0 : xy / Math.sqrt(xx * yy);
      assertEquals(cosine, r.<Double>getAs("cosine"), 1e-9, "cosine " + f);
      assertEquals((double) firedY / tokens, r.<Double>getAs("firing_rate_c"), 1e-12);
      assertEquals(
          either == 0 ? 1.0 : (double) both / either, r.<Double>getAs("firing_jaccard"), 1e-12);
      boolean active = (double) firedX / tokens > 0.001;
      boolean activeUnderC = (double) firedY / tokens > 0.001;
      activeC += activeUnderC ? 1 : 0;
      newActive += activeUnderC && !active ? 1 : 0;
      dead += active && firedY == 0 ? 1 : 0;
    }
    Row c = table("conditions").where("condition = 'rtn3'").first();
    assertEquals(activeC, c.<Long>getAs("n_active_c"));
    assertEquals(newActive, c.<Long>getAs("n_new_active"));
    assertEquals(dead, c.<Long>getAs("n_dead"));
  }

  private static double[][] dense(String condition, long tokens) {
    double[][] out = new double[(int) tokens][TinyAudit.D_SAE];
    for (Row r : table("codes").where("condition = '" + condition + "'").collectAsList()) {
      long w = r.getAs("window_id");
      int p = r.getAs("position");
      out[(int) (w * LENGTH + p)][(int) r.getAs("feature")] = (float) r.getAs("activation");
    }
    return out;
  }
}
