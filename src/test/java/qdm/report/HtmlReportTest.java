package qdm.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import qdm.report.ReportData.ConditionRow;

/** The report page: its images exist and decode, and it references nothing outside itself. */
class HtmlReportTest {
  static ReportData data() {
    List<ConditionRow> rows =
        List.of(
            new ConditionRow(
                "fp", "none", null, null, 30.0, 0.0, 25.0, 100.0, 0.0, 0.0, 1.0, 1.0, 120),
            new ConditionRow(
                "rtn8", "rtn", 8, null, 30.2, 0.7, 25.1, 97.0, 3.0, 0.0, 0.97, 0.98, 120),
            new ConditionRow(
                "rtn4", "rtn", 4, null, 60.0, 100.0, 50.0, 12.0, 40.0, 48.0, 0.5, 0.49, 120),
            new ConditionRow(
                "prune-matched",
                "prune",
                null,
                0.175,
                59.0,
                96.7,
                null,
                20.0,
                50.0,
                30.0,
                0.6,
                0.62,
                120));
    double[] a = {0.01, 0.2, 0.5, 0.9};
    double[] b = {0.02, 0.25, 0.4, 0.95};
    Map<String, double[]> pearson = new LinkedHashMap<>();
    pearson.put("rtn8", new double[] {0.99, 0.97, 0.95});
    pearson.put("rtn4", new double[] {0.5, -0.1, 0.2});
    return new ReportData(
        "t <&> run",
        rows,
        "rtn4",
        List.of(
            new ReportData.QuartileRow("firing_rate", 1, 10.0, 30),
            new ReportData.QuartileRow("firing_rate", 2, 20.0, 30)),
        List.of(new ReportData.Roc("all", 0.9, new double[] {0, 0.1, 1}, new double[] {0, 0.8, 1})),
        List.of(new ReportData.DamagePair("rtn4", "prune-matched", a, b)),
        pearson,
        Map.of(
            "Overlap",
            new ReportData.Table(List.of("a", "b"), List.of(List.of("1", "2"))),
            HtmlReport.BY_SAE,
            new ReportData.Table(
                List.of("sae", "fp", "rtn8", "rtn4"),
                List.of(
                    List.of("l2", "100.00", "98.50", "20.00"),
                    List.of("l4", "100.00", "97.00", "")))),
        "qdm { run-name = t }",
        Map.of("model", "m", "tokens", 1234));
  }

  @Test
  void pageImagesExistDecodeAndNothingIsExternal() throws Exception {
    Map<String, byte[]> files = HtmlReport.render(data());
    for (String name :
        List.of(
            "index.html",
            "summary.md",
            "charts/sweep.png",
            "charts/quartiles.png",
            "charts/roc.png",
            "charts/damage-0.png",
            "charts/pearson.png",
            "charts/by-sae.png")) {
      assertTrue(files.containsKey(name), name);
    }
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      if (f.getKey().endsWith(".png")) {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(f.getValue()));
        assertNotNull(img, f.getKey());
        assertEquals(Charts.WIDTH, img.getWidth());
      }
    }
    String html = new String(files.get("index.html"), StandardCharsets.UTF_8);
    // every src/href is inline data, never a URL (no CDN, nothing fetched)
    Matcher m = Pattern.compile("(?:src|href)\\s*=\\s*\"([^\"]*)\"").matcher(html);
    int images = 0;
    while (m.find()) {
      assertTrue(m.group(1).startsWith("data:image/png;base64,"), m.group(1));
      byte[] png =
          Base64.getDecoder().decode(m.group(1).substring("data:image/png;base64,".length()));
      assertNotNull(ImageIO.read(new ByteArrayInputStream(png)));
      images++;
    }
    assertEquals(6, images);
    assertFalse(html.contains("http://") || html.contains("https://"), "no external URL");
    assertFalse(html.contains("<script"), "no script");
    assertTrue(html.contains("t &lt;&amp;&gt; run"), "escaped");
    assertTrue(html.contains("prune-matched") && html.contains("0.1750"));
    String md = new String(files.get("summary.md"), StandardCharsets.UTF_8);
    assertTrue(md.contains("| rtn4 | rtn | 4 |"), md);
  }
}
