package qdm.report;

import java.util.List;
import java.util.Map;

/**
 * Everything the HTML report shows, as plain values read from the run's tables: the report is a
 * pure function of this record, so it is tested without Spark.
 *
 * @param conditions rows of the {@code conditions} table, in report order
 * @param quartiles survival % by quartile of each FP statistic, for the predictor condition
 * @param rocs ROC curves of the survival predictor (pooled out-of-fold scores)
 * @param damage damage scores of active features for each overlap pair
 * @param pearson Pearson r of the active features, per condition
 * @param tables extra tables to show verbatim (title to header + rows)
 * @param configText the effective configuration
 * @param provenance model, SAE, corpus, token counts, versions
 */
public record ReportData(
    String runName,
    List<ConditionRow> conditions,
    String quartileCondition,
    List<QuartileRow> quartiles,
    List<Roc> rocs,
    List<DamagePair> damage,
    Map<String, double[]> pearson,
    Map<String, Table> tables,
    String configText,
    Map<String, Object> provenance) {

  /** One condition's summary. Nullable boxed fields are absent values. */
  public record ConditionRow(
      String condition,
      String method,
      Integer bits,
      Double sparsity,
      Double ppl,
      Double deltaPplPct,
      Double pplSliding,
      Double survivedPct,
      Double blurredPct,
      Double damagedPct,
      Double meanR,
      Double medianR,
      long nActive,
      Double survivedLo,
      Double survivedHi) {
    /** A row without bootstrap bounds. */
    public ConditionRow(
        String condition,
        String method,
        Integer bits,
        Double sparsity,
        Double ppl,
        Double deltaPplPct,
        Double pplSliding,
        Double survivedPct,
        Double blurredPct,
        Double damagedPct,
        Double meanR,
        Double medianR,
        long nActive) {
      this(
          condition,
          method,
          bits,
          sparsity,
          ppl,
          deltaPplPct,
          pplSliding,
          survivedPct,
          blurredPct,
          damagedPct,
          meanR,
          medianR,
          nActive,
          null,
          null);
    }
  }

  /** Survival % in one quartile of one FP statistic. */
  public record QuartileRow(String statistic, int quartile, Double survivedPct, long n) {}

  /** A ROC curve. */
  public record Roc(String name, double auc, double[] fpr, double[] tpr) {}

  /** Damage (1 - r) of the same active features under two conditions. */
  public record DamagePair(String a, String b, double[] damageA, double[] damageB) {}

  /** A table shown as is. */
  public record Table(List<String> header, List<List<String>> rows) {}
}
