package qdm.drift;

import java.util.List;
import java.util.Locale;
import qdm.compress.WeightOutliers;

/**
 * What {@link DriftProbe} measured: the weights' outlier statistics and, per condition, how far
 * weights, residual and SAE codes moved.
 *
 * @param hook the SAE's hook
 * @param windows windows in the sample
 * @param tokens token positions in the sample
 * @param fpPerplexity the full-precision model's perplexity over the sample
 * @param outliers one entry per compression target tensor of the full-precision model
 * @param conditions one entry per measured condition, in config order
 * @param skipped conditions not measured, each with the reason
 */
public record DriftReport(
    String hook,
    int windows,
    long tokens,
    double fpPerplexity,
    List<WeightOutliers> outliers,
    List<ConditionDrift> conditions,
    List<String> skipped) {

  public DriftReport {
    outliers = List.copyOf(outliers);
    conditions = List.copyOf(conditions);
    skipped = List.copyOf(skipped);
  }

  /** The report as text: a weights summary, then one row per condition. */
  public String render() {
    StringBuilder s = new StringBuilder();
    double meanRatio =
        outliers.stream().mapToDouble(WeightOutliers::meanPeakToRms).average().orElse(0);
    double maxRatio = outliers.stream().mapToDouble(WeightOutliers::maxPeakToRms).max().orElse(0);
    double minKurtosis = outliers.stream().mapToDouble(WeightOutliers::kurtosis).min().orElse(0);
    double maxKurtosis = outliers.stream().mapToDouble(WeightOutliers::kurtosis).max().orElse(0);
    s.append(
        String.format(
            Locale.ROOT,
            "weights: %d target tensors; row max|w| / row RMS "
                + "%.2f on average, %.2f at most; kurtosis %.2f to %.2f (Gaussian: 3)%n",
            outliers.size(),
            meanRatio,
            maxRatio,
            minKurtosis,
            maxKurtosis));
    s.append(
        String.format(
            Locale.ROOT,
            "sample: %d windows, %,d tokens; fp perplexity %.2f; "
                + "changes are ||x_c - x_fp|| / ||x_fp||%n%n",
            windows,
            tokens,
            fpPerplexity));
    s.append(
        String.format(
            Locale.ROOT,
            "%-16s %-14s %10s %14s %12s %10s %8s %10s %7s%n",
            "condition",
            "compression",
            "weights",
            "residual@hook",
            "SAE codes",
            "ppl",
            "dppl",
            "KL",
            "top1"));
    for (ConditionDrift c : conditions) {
      s.append(
          String.format(
              Locale.ROOT,
              "%-16s %-14s %9.2f%% %13.2f%% %11.2f%% %10.2f %+7.2f%% %10.3g %6.2f%%%n",
              c.condition(),
              c.compression(),
              100 * c.weightError(),
              100 * c.residualChange(),
              100 * c.codeChange(),
              c.perplexity(),
              100 * (c.perplexity() / fpPerplexity - 1),
              c.klMean(),
              c.top1SamePct()));
    }
    skipped.forEach(k -> s.append("skipped: ").append(k).append('\n'));
    return s.toString();
  }

  /** One row per target tensor, for {@code --tensors}. */
  public String renderTensors() {
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            Locale.ROOT,
            "%-48s %12s %12s %12s %9s%n",
            "tensor",
            "shape",
            "peak/RMS",
            "max",
            "kurtosis"));
    for (WeightOutliers o : outliers) {
      s.append(
          String.format(
              Locale.ROOT,
              "%-48s %12s %12.2f %12.2f %9.2f%n",
              o.tensor(),
              o.rows() + "x" + o.rowLength(),
              o.meanPeakToRms(),
              o.maxPeakToRms(),
              o.kurtosis()));
    }
    return s.toString();
  }
}
