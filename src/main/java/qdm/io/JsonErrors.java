package qdm.io;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Gson's parse errors as a user should read them: what is wrong and where ("expected ':' at line 1
 * column 7"), without the exception class, the advice to parse leniently or the link to Gson's
 * troubleshooting page, which are meant for the programmer calling Gson.
 */
public final class JsonErrors {
  private static final Pattern WHERE = Pattern.compile("at line (\\d+) column (\\d+)");

  private JsonErrors() {}

  /** A one-line description of why {@code e}'s text is not valid JSON. */
  public static String describe(RuntimeException e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    int newline = m.indexOf('\n');
    if (newline >= 0) {
      m = m.substring(0, newline);
    }
    m = m.replaceFirst("^[a-zA-Z0-9_.$]+(Exception|Error): ", "");
    Matcher where = WHERE.matcher(m);
    String at = where.find() ? " at line " + where.group(1) + " column " + where.group(2) : "";
    String what;
    if (m.startsWith("Use JsonReader.setStrictness")) {
      what = "malformed JSON (a name or value in a form strict JSON does not allow)";
    } else if (m.startsWith("End of input")) {
      what = "unexpected end of input (truncated?)";
    } else {
      int cut = m.indexOf(" at line ");
      what = (cut >= 0 ? m.substring(0, cut) : m).trim();
      what =
          what.isEmpty()
              ? "malformed JSON"
              : Character.toLowerCase(what.charAt(0)) + what.substring(1);
    }
    return what + at;
  }
}
