package qdm.report;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import qdm.report.ReportData.ConditionRow;

/**
 * The report page: one self-contained HTML file (charts embedded as PNG data, styles inline, no
 * script, no external URL) that opens offline in any browser, plus the chart PNGs as files and a
 * Markdown summary. A pure function of {@link ReportData}.
 */
public final class HtmlReport {
  private HtmlReport() {}

  /** The files of a report: relative path to bytes. */
  public static Map<String, byte[]> render(ReportData data) {
    Map<String, byte[]> charts = new LinkedHashMap<>();
    if (!data.conditions().isEmpty()) {
      charts.put("charts/sweep.png", Charts.png(Charts.sweep(data.conditions())));
    }
    if (!data.quartiles().isEmpty()) {
      charts.put(
          "charts/quartiles.png",
          Charts.png(Charts.quartiles(data.quartileCondition(), data.quartiles())));
    }
    if (!data.rocs().isEmpty()) {
      charts.put("charts/roc.png", Charts.png(Charts.roc(data.rocs())));
    }
    for (int i = 0; i < data.damage().size(); i++) {
      JFreeChart c = Charts.damage(data.damage().get(i));
      charts.put("charts/damage-" + i + ".png", Charts.png(c));
    }
    if (!data.pearson().isEmpty()) {
      charts.put("charts/pearson.png", Charts.png(Charts.pearson(data.pearson())));
    }
    ReportData.Table bySae = data.tables().get(BY_SAE);
    if (bySae != null) {
      charts.put("charts/by-sae.png", Charts.png(Charts.bySae(bySae)));
    }
    Map<String, byte[]> files = new LinkedHashMap<>(charts);
    files.put("index.html", html(data, charts).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    files.put("summary.md", markdown(data).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return files;
  }

  static String html(ReportData d, Map<String, byte[]> charts) {
    StringBuilder s = new StringBuilder();
    s.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<title>QDM audit: ")
        .append(esc(d.runName()))
        .append("</title>\n<style>")
        .append("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;")
        .append("color:#222;line-height:1.45}h1{font-size:1.6em}h2{margin-top:1.8em;")
        .append("border-bottom:1px solid #ddd}table{border-collapse:collapse;margin:.6em 0;")
        .append("font-size:.9em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}")
        .append("th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}")
        .append("img{max-width:100%;border:1px solid #eee}pre{background:#f7f7f7;")
        .append("padding:1em;overflow-x:auto;font-size:.8em}.note{color:#555}</style>")
        .append("</head><body>\n");
    s.append("<h1>QDM audit: ").append(esc(d.runName())).append("</h1>\n");
    s.append("<p class=\"note\">").append(esc(headline(d))).append("</p>\n");

    s.append("<h2>Conditions</h2>\n").append(conditionTable(d.conditions()));
    chart(s, charts, "charts/sweep.png", "Survival classes and perplexity by condition");
    s.append("<p class=\"note\">Survived: r &gt; 0.9; damaged: r &lt; 0.5; blurred: in between; ")
        .append("r is the Pearson correlation over all token positions between a feature's ")
        .append("activations in the reference and in the condition. Percentages are of the ")
        .append("features active in the reference.</p>\n");
    chart(s, charts, "charts/pearson.png", "Pearson r distribution");

    if (!d.quartiles().isEmpty()) {
      s.append("<h2>What predicts survival</h2>\n");
      chart(s, charts, "charts/quartiles.png", "Survival by quartile");
      chart(s, charts, "charts/roc.png", "Predictor ROC");
    }
    if (!d.damage().isEmpty()) {
      s.append("<h2>Do different compressions damage the same features?</h2>\n");
      for (int i = 0; i < d.damage().size(); i++) {
        chart(s, charts, "charts/damage-" + i + ".png", "Damage scatter");
      }
    }
    for (Map.Entry<String, ReportData.Table> t : d.tables().entrySet()) {
      s.append("<h2>")
          .append(esc(t.getKey()))
          .append("</h2>\n")
          .append(table(t.getValue().header(), t.getValue().rows()));
      if (t.getKey().equals(BY_SAE)) {
        chart(s, charts, "charts/by-sae.png", "Survived % by SAE and condition");
      }
    }
    s.append("<h2>Provenance</h2>\n<table>");
    for (Map.Entry<String, Object> e : d.provenance().entrySet()) {
      s.append("<tr><td>")
          .append(esc(e.getKey()))
          .append("</td><td style=\"text-align:left\">")
          .append(esc(String.valueOf(e.getValue())))
          .append("</td></tr>");
    }
    s.append("</table>\n<h2>Configuration</h2>\n<pre>")
        .append(esc(d.configText()))
        .append("</pre>\n</body></html>\n");
    return s.toString();
  }

  private static void chart(StringBuilder s, Map<String, byte[]> charts, String name, String alt) {
    byte[] png = charts.get(name);
    if (png != null) {
      s.append("<p><img alt=\"")
          .append(esc(alt))
          .append("\" src=\"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(png))
          .append("\"></p>\n");
    }
  }

  static String headline(ReportData d) {
    ConditionRow ref = d.conditions().isEmpty() ? null : d.conditions().get(0);
    List<String> parts = new ArrayList<>();
    for (ConditionRow r : d.conditions()) {
      if (r == ref || r.survivedPct() == null || r.condition().endsWith("-null")) {
        continue;
      }
      parts.add(
          String.format(
              Locale.ROOT,
              "%s: %.1f%% survived, perplexity %+.2f%%",
              r.condition(),
              r.survivedPct(),
              r.deltaPplPct() == null ? 0 : r.deltaPplPct()));
    }
    return (ref == null ? "" : ref.nActive() + " active features in " + ref.condition() + ". ")
        + String.join("; ", parts)
        + ".";
  }

  static String conditionTable(List<ConditionRow> rows) {
    List<String> header =
        List.of(
            "condition",
            "method",
            "bits",
            "sparsity",
            "ppl (chunked)",
            "Δppl %",
            "ppl (sliding)",
            "survived %",
            "blurred %",
            "damaged %",
            "mean r",
            "median r");
    List<List<String>> body = new ArrayList<>();
    for (ConditionRow r : rows) {
      body.add(
          List.of(
              r.condition(),
              r.method(),
              r.bits() == null ? "" : r.bits().toString(),
              Csv.fixed(r.sparsity(), 4),
              Csv.fixed(r.ppl(), 3),
              Csv.fixed(r.deltaPplPct(), 2),
              Csv.fixed(r.pplSliding(), 3),
              Csv.fixed(r.survivedPct(), 2),
              Csv.fixed(r.blurredPct(), 2),
              Csv.fixed(r.damagedPct(), 2),
              Csv.fixed(r.meanR(), 3),
              Csv.fixed(r.medianR(), 3)));
    }
    return table(header, body);
  }

  static String table(List<String> header, List<List<String>> rows) {
    StringBuilder s = new StringBuilder("<div style=\"overflow-x:auto\"><table><tr>");
    for (String h : header) {
      s.append("<th>").append(esc(h)).append("</th>");
    }
    s.append("</tr>\n");
    for (List<String> r : rows) {
      s.append("<tr>");
      for (String c : r) {
        s.append("<td>").append(esc(c)).append("</td>");
      }
      s.append("</tr>\n");
    }
    return s.append("</table></div>\n").toString();
  }

  /** Title of the table of per-token comparisons with the reference (from {@code conditions}). */
  public static final String BEHAVIOUR =
      "Behaviour: each condition's next-token distribution against the reference's (KL, Δp,"
          + " top-1), next to perplexity and feature survival";

  /**
   * Title of the survival table over SAEs and conditions (several SAEs only): which layer breaks
   * first. The sections after it show the first SAE.
   */
  public static final String BY_SAE =
      "Survived % by SAE (rows) and condition: which layer's features break first (the sections"
          + " below show the first SAE)";

  /** Title of the stability verdicts (from {@code conditions} and {@code stability}). */
  public static final String STABILITY =
      "Stability: bootstrap intervals over windows and the paper's pass rules (budgets within"
          + " 2 points, subsets' standard deviation below 2 / 1 points)";

  /** Title of the table of SAE fidelity figures (from {@code conditions}). */
  public static final String FIDELITY =
      "SAE fidelity on each condition's own activations (FVU, cosine, L0, CE-loss score) and"
          + " the features it switches on and off";

  /** The Markdown summary: headline, condition table, provenance. */
  static String markdown(ReportData d) {
    StringBuilder s = new StringBuilder("# QDM audit: " + d.runName() + "\n\n");
    s.append(headline(d)).append("\n\n");
    s.append(
        "| condition | method | bits | sparsity | ppl | Δppl % | survived % | blurred % "
            + "| damaged % | mean r |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (ConditionRow r : d.conditions()) {
      s.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
              r.condition(),
              r.method(),
              r.bits() == null ? "" : r.bits(),
              Csv.fixed(r.sparsity(), 4),
              Csv.fixed(r.ppl(), 3),
              Csv.fixed(r.deltaPplPct(), 2),
              Csv.fixed(r.survivedPct(), 2),
              Csv.fixed(r.blurredPct(), 2),
              Csv.fixed(r.damagedPct(), 2),
              Csv.fixed(r.meanR(), 3)));
    }
    for (String title : List.of(BY_SAE, BEHAVIOUR, FIDELITY, STABILITY)) {
      ReportData.Table t = d.tables().get(title);
      if (t != null) {
        s.append("\n## ").append(title).append("\n\n| ");
        s.append(String.join(" | ", t.header())).append(" |\n|");
        s.append("---|".repeat(t.header().size())).append('\n');
        for (List<String> row : t.rows()) {
          s.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
      }
    }
    s.append("\n## Provenance\n\n");
    d.provenance().forEach((k, v) -> s.append("- ").append(k).append(": ").append(v).append('\n'));
    return s.toString();
  }

  static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
