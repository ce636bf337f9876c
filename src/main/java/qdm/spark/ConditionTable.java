package qdm.spark;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import qdm.report.Csv;

/** The short condition table printed at the end of a run (the paper's main table). */
public final class ConditionTable {
  private ConditionTable() {}

  private static final String[] HEADER = {
    "condition",
    "method",
    "bits",
    "sparsity",
    "ppl",
    "dppl%",
    "ppl_slide",
    "survived%",
    "blurred%",
    "damaged%",
    "mean_r",
    "median_r"
  };

  /** Renders the published {@code conditions} table as aligned text. */
  public static String render(SparkSession spark, RunLayout layout) {
    List<Row> rows = spark.read().parquet(layout.table("conditions").toString()).collectAsList();
    String[][] cells = new String[rows.size() + 1][];
    cells[0] = HEADER;
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      cells[i + 1] =
          new String[] {
            r.getAs("condition"),
            r.getAs("method"),
            r.getAs("bits") == null ? "" : r.getAs("bits").toString(),
            Csv.fixed(r.getAs("sparsity"), 4),
            Csv.fixed(r.getAs("ppl_chunked"), 2),
            Csv.fixed(r.getAs("delta_ppl_pct"), 2),
            Csv.fixed(r.getAs("ppl_sliding"), 2),
            Csv.fixed(r.getAs("survived_pct"), 2),
            Csv.fixed(r.getAs("blurred_pct"), 2),
            Csv.fixed(r.getAs("damaged_pct"), 2),
            Csv.fixed(r.getAs("mean_r"), 3),
            Csv.fixed(r.getAs("median_r"), 3)
          };
    }
    return align(cells);
  }

  static String align(String[][] cells) {
    int[] width = new int[cells[0].length];
    for (String[] row : cells) {
      for (int c = 0; c < row.length; c++) {
        width[c] = Math.max(width[c], row[c].length());
      }
    }
    StringBuilder s = new StringBuilder();
    for (String[] row : cells) {
      for (int c = 0; c < row.length; c++) {
        String v = row[c];
        boolean left = c < 2;
        s.append(c == 0 ? "" : "  ");
        s.append(
            left ? v + " ".repeat(width[c] - v.length()) : " ".repeat(width[c] - v.length()) + v);
      }
      s.append('\n');
    }
    return s.toString();
  }
}
