package qdm.report;

import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/** RFC 4180 CSV of collected rows: header from the schema, quoting where needed. */
public final class Csv {
  private Csv() {}

  /** The rows as CSV text. Doubles print with full precision; arrays as {@code [a; b]}. */
  public static String of(StructType schema, List<Row> rows) {
    StringBuilder s = new StringBuilder();
    String[] names = schema.fieldNames();
    for (int i = 0; i < names.length; i++) {
      s.append(i > 0 ? "," : "").append(quote(names[i]));
    }
    s.append('\n');
    for (Row r : rows) {
      for (int i = 0; i < names.length; i++) {
        s.append(i > 0 ? "," : "").append(quote(cell(r.get(i))));
      }
      s.append('\n');
    }
    return s.toString();
  }

  public static String cell(Object v) {
    if (v == null) {
      return "";
    }
    if (v instanceof Double d) {
      return d.isNaN() ? "NaN" : Double.toString(d);
    }
    if (v instanceof scala.collection.Seq<?> seq) {
      StringBuilder b = new StringBuilder("[");
      var it = seq.iterator();
      while (it.hasNext()) {
        b.append(cell(it.next()));
        if (it.hasNext()) {
          b.append("; ");
        }
      }
      return b.append(']').toString();
    }
    return String.valueOf(v);
  }

  static String quote(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) {
      return s;
    }
    return '"' + s.replace("\"", "\"\"") + '"';
  }

  /** A number for humans: fixed decimals, blank when null. */
  public static String fixed(Object v, int decimals) {
    if (v == null) {
      return "";
    }
    return String.format(Locale.ROOT, "%." + decimals + "f", ((Number) v).doubleValue());
  }
}
