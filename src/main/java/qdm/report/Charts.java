package qdm.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.DatasetRenderingOrder;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.LineAndShapeRenderer;
import org.jfree.chart.renderer.category.StackedBarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import qdm.report.ReportData.ConditionRow;

/**
 * The report's charts, drawn with JFreeChart and rendered to PNG on the driver: no browser, no
 * script, no network, so the page works anywhere it is opened.
 */
public final class Charts {
  static final Color SURVIVED = new Color(0x2E, 0x8B, 0x57);
  static final Color BLURRED = new Color(0xF0, 0xA2, 0x02);
  static final Color DAMAGED = new Color(0xC0, 0x39, 0x2B);
  static final Color[] SERIES = {
    new Color(0x1F, 0x77, 0xB4),
    new Color(0xFF, 0x7F, 0x0E),
    new Color(0x2C, 0xA0, 0x2C),
    new Color(0xD6, 0x27, 0x28),
    new Color(0x94, 0x67, 0xBD),
    new Color(0x8C, 0x56, 0x4B),
    new Color(0xE3, 0x77, 0xC2),
    new Color(0x7F, 0x7F, 0x7F),
    new Color(0xBC, 0xBD, 0x22),
    new Color(0x17, 0xBE, 0xCF)
  };
  static final int WIDTH = 900;
  static final int HEIGHT = 460;

  private Charts() {}

  /** PNG bytes of a chart. */
  public static byte[] png(JFreeChart chart) {
    System.setProperty("java.awt.headless", "true");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ChartUtils.writeChartAsPNG(out, chart, WIDTH, HEIGHT);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * The paper's main figure: survived / blurred / damaged (% of active features) stacked per
   * condition, with chunked perplexity on a second axis.
   */
  public static JFreeChart sweep(List<ConditionRow> rows) {
    DefaultCategoryDataset classes = new DefaultCategoryDataset();
    DefaultCategoryDataset ppl = new DefaultCategoryDataset();
    for (ConditionRow r : rows) {
      classes.addValue(nz(r.survivedPct()), "survived (r > 0.9)", r.condition());
      classes.addValue(nz(r.blurredPct()), "blurred", r.condition());
      classes.addValue(nz(r.damagedPct()), "damaged (r < 0.5)", r.condition());
      ppl.addValue(r.ppl(), "perplexity (chunked)", r.condition());
    }
    CategoryAxis x = new CategoryAxis("condition");
    x.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
    NumberAxis pct = new NumberAxis("% of active features");
    pct.setRange(0, 100);
    StackedBarRenderer bars = new StackedBarRenderer();
    bars.setBarPainter(new StandardBarPainter());
    bars.setShadowVisible(false);
    bars.setSeriesPaint(0, SURVIVED);
    bars.setSeriesPaint(1, BLURRED);
    bars.setSeriesPaint(2, DAMAGED);
    CategoryPlot plot = new CategoryPlot(classes, x, pct, bars);
    NumberAxis pplAxis = new NumberAxis("perplexity");
    pplAxis.setAutoRangeIncludesZero(false);
    plot.setRangeAxis(1, pplAxis);
    plot.setDataset(1, ppl);
    plot.mapDatasetToRangeAxis(1, 1);
    LineAndShapeRenderer line = new LineAndShapeRenderer(true, true);
    line.setSeriesPaint(0, Color.BLACK);
    line.setSeriesStroke(0, new BasicStroke(2f));
    plot.setRenderer(1, line);
    // the bootstrap's 95 % interval of survived %, as two ticks per bar (when it ran)
    DefaultCategoryDataset bounds = new DefaultCategoryDataset();
    for (ConditionRow r : rows) {
      if (r.survivedLo() != null && r.survivedHi() != null) {
        bounds.addValue(r.survivedLo(), "survived %: bootstrap interval", r.condition());
        bounds.addValue(r.survivedHi(), "survived %: bootstrap interval (upper)", r.condition());
      }
    }
    if (bounds.getRowCount() > 0) {
      plot.setDataset(2, bounds);
      plot.mapDatasetToRangeAxis(2, 0);
      LineAndShapeRenderer ticks = new LineAndShapeRenderer(false, true);
      java.awt.Shape tick = new java.awt.geom.Rectangle2D.Double(-9, -1.5, 18, 3);
      for (int i = 0; i < 2; i++) {
        ticks.setSeriesShape(i, tick);
        ticks.setSeriesPaint(i, Color.BLACK);
      }
      ticks.setSeriesVisibleInLegend(1, false);
      plot.setRenderer(2, ticks);
    }
    plot.setDatasetRenderingOrder(DatasetRenderingOrder.FORWARD);
    return styled(
        new JFreeChart(
            "Feature survival and perplexity by condition",
            JFreeChart.DEFAULT_TITLE_FONT,
            plot,
            true));
  }

  /**
   * Survived % by condition, one line per SAE (layer): which layer's features break first. From the
   * report's survival-by-SAE table (header: sae, then the conditions).
   */
  public static JFreeChart bySae(ReportData.Table table) {
    DefaultCategoryDataset d = new DefaultCategoryDataset();
    List<String> conditions = table.header().subList(1, table.header().size());
    for (List<String> row : table.rows()) {
      for (int i = 0; i < conditions.size(); i++) {
        String v = row.get(i + 1);
        d.addValue(v.isEmpty() ? null : Double.valueOf(v), row.get(0), conditions.get(i));
      }
    }
    CategoryAxis x = new CategoryAxis("condition");
    x.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
    NumberAxis y = new NumberAxis("% of active features that survived");
    y.setRange(0, 100);
    LineAndShapeRenderer lines = new LineAndShapeRenderer(true, true);
    for (int i = 0; i < table.rows().size(); i++) {
      lines.setSeriesPaint(i, SERIES[i % SERIES.length]);
      lines.setSeriesStroke(i, new BasicStroke(2f));
    }
    return styled(
        new JFreeChart(
            "Feature survival by SAE (layer)",
            JFreeChart.DEFAULT_TITLE_FONT,
            new CategoryPlot(d, x, y, lines),
            true));
  }

  /** Survival % per quartile (Q1 lowest) of each FP statistic. */
  public static JFreeChart quartiles(String condition, List<ReportData.QuartileRow> rows) {
    DefaultCategoryDataset d = new DefaultCategoryDataset();
    for (ReportData.QuartileRow q : rows) {
      d.addValue(nz(q.survivedPct()), "Q" + q.quartile(), q.statistic());
    }
    CategoryAxis x = new CategoryAxis("FP statistic (quartiles over active features)");
    NumberAxis y = new NumberAxis("% survived at " + condition);
    y.setRange(0, 100);
    BarRenderer r = new BarRenderer();
    r.setBarPainter(new StandardBarPainter());
    r.setShadowVisible(false);
    for (int i = 0; i < 4; i++) {
      r.setSeriesPaint(i, SERIES[i]);
    }
    return styled(
        new JFreeChart(
            "Survival by quartile of each FP statistic (" + condition + ")",
            JFreeChart.DEFAULT_TITLE_FONT,
            new CategoryPlot(d, x, y, r),
            true));
  }

  /** ROC curves of the survival predictor, with the chance diagonal. */
  public static JFreeChart roc(List<ReportData.Roc> rocs) {
    XYSeriesCollection d = new XYSeriesCollection();
    for (ReportData.Roc roc : rocs) {
      XYSeries s =
          new XYSeries(
              String.format(java.util.Locale.ROOT, "%s (AUC %.3f)", roc.name(), roc.auc()),
              false,
              true);
      for (int i = 0; i < roc.fpr().length; i++) {
        s.add(roc.fpr()[i], roc.tpr()[i]);
      }
      d.addSeries(s);
    }
    XYSeries chance = new XYSeries("chance", false, true);
    chance.add(0, 0);
    chance.add(1, 1);
    d.addSeries(chance);
    XYPlot plot = xy(d, "false positive rate", "true positive rate", false);
    plot.getDomainAxis().setRange(0, 1);
    plot.getRangeAxis().setRange(0, 1);
    XYLineAndShapeRenderer r = (XYLineAndShapeRenderer) plot.getRenderer();
    r.setSeriesPaint(rocs.size(), Color.GRAY);
    r.setSeriesStroke(
        rocs.size(),
        new BasicStroke(
            1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {4f, 4f}, 0f));
    return styled(
        new JFreeChart(
            "Survival predictor ROC (out-of-fold)", JFreeChart.DEFAULT_TITLE_FONT, plot, true));
  }

  /** Damage of each active feature under two conditions. */
  public static JFreeChart damage(ReportData.DamagePair p) {
    XYSeries s = new XYSeries("active features", false, true);
    double max = 0.05;
    for (int i = 0; i < p.damageA().length; i++) {
      s.add(p.damageA()[i], p.damageB()[i]);
      max = Math.max(max, Math.max(p.damageA()[i], p.damageB()[i]));
    }
    XYSeries diagonal = new XYSeries("y = x", false, true);
    diagonal.add(0, 0);
    diagonal.add(max, max);
    XYSeriesCollection d = new XYSeriesCollection(s);
    d.addSeries(diagonal);
    XYPlot plot = xy(d, "damage (1 - r) under " + p.a(), "damage (1 - r) under " + p.b(), true);
    XYLineAndShapeRenderer r = (XYLineAndShapeRenderer) plot.getRenderer();
    r.setSeriesLinesVisible(0, false);
    r.setSeriesShapesVisible(0, true);
    r.setSeriesShape(0, new java.awt.geom.Ellipse2D.Double(-2, -2, 4, 4));
    r.setSeriesPaint(0, new Color(31, 119, 180, 120));
    r.setSeriesShapesVisible(1, false);
    r.setSeriesPaint(1, Color.GRAY);
    return styled(
        new JFreeChart(
            "Damage per feature: " + p.a() + " vs " + p.b(),
            JFreeChart.DEFAULT_TITLE_FONT,
            plot,
            true));
  }

  /** Distribution of Pearson r over active features, one line per condition (40 bins). */
  public static JFreeChart pearson(Map<String, double[]> byCondition) {
    int bins = 40;
    XYSeriesCollection d = new XYSeriesCollection();
    for (Map.Entry<String, double[]> e : byCondition.entrySet()) {
      double[] counts = new double[bins];
      for (double r : e.getValue()) {
        int b = (int) Math.floor((r + 1) / 2 * bins);
        counts[Math.max(0, Math.min(bins - 1, b))]++;
      }
      XYSeries s = new XYSeries(e.getKey(), false, true);
      for (int b = 0; b < bins; b++) {
        double pct = e.getValue().length == 0 ? 0 : 100 * counts[b] / e.getValue().length;
        s.add(-1 + (b + 0.5) * 2.0 / bins, pct);
      }
      d.addSeries(s);
    }
    XYPlot plot = xy(d, "Pearson r (FP vs condition)", "% of active features", false);
    plot.getDomainAxis().setRange(-1, 1);
    return styled(
        new JFreeChart(
            "Distribution of per-feature Pearson r", JFreeChart.DEFAULT_TITLE_FONT, plot, true));
  }

  private static XYPlot xy(XYSeriesCollection d, String xLabel, String yLabel, boolean shapes) {
    NumberAxis x = new NumberAxis(xLabel);
    NumberAxis y = new NumberAxis(yLabel);
    x.setAutoRangeIncludesZero(false);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, shapes);
    for (int i = 0; i < d.getSeriesCount(); i++) {
      r.setSeriesPaint(i, SERIES[i % SERIES.length]);
      r.setSeriesStroke(i, new BasicStroke(1.8f));
    }
    XYPlot plot = new XYPlot(d, x, y, r);
    plot.setOrientation(PlotOrientation.VERTICAL);
    return plot;
  }

  private static JFreeChart styled(JFreeChart chart) {
    chart.setBackgroundPaint(Color.WHITE);
    chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    var plot = chart.getPlot();
    plot.setBackgroundPaint(new Color(0xFA, 0xFA, 0xFA));
    if (plot instanceof XYPlot xy) {
      xy.setDomainGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
      xy.setRangeGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
    } else if (plot instanceof CategoryPlot c) {
      c.setRangeGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
    }
    return chart;
  }

  private static double nz(Double v) {
    return v == null ? 0 : v;
  }
}
