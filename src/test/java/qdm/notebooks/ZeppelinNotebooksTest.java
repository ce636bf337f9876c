package qdm.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import qdm.tables.AvroSchemas;
import qdm.testing.LocalSpark;
import qdm.testing.TinyRun;

/**
 * The Zeppelin notes in notebooks/: each is a Zeppelin note (JSON with paragraphs), its first code
 * paragraph registers exactly QDM's output tables as temporary views, and every %spark.sql / %sql
 * paragraph, with its dynamic forms ({@code ${name=default}}) at their defaults, runs in a local
 * SparkSession against a real run's tables ({@link TinyRun}) and returns rows.
 */
class ZeppelinNotebooksTest {
  static final Pattern FORM =
      Pattern.compile("\\$\\{(?:checkbox:|select:)?([A-Za-z_][\\w.]*)(?:=([^,}]*))?(?:,[^}]*)?}");
  static final Pattern TABLES = Pattern.compile("val tables = Seq\\(([^)]*)\\)");

  static List<Path> notes() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("notebooks"))) {
      return s.filter(p -> p.toString().endsWith(".zpln")).sorted().toList();
    }
  }

  /** A paragraph's text with every dynamic form replaced by its default. */
  static String withDefaults(String text, String where) {
    Matcher m = FORM.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      assertTrue(m.group(2) != null, where + ": form ${" + m.group(1) + "} has no default");
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(2)));
    }
    m.appendTail(out);
    return out.toString();
  }

  @Test
  void everySqlParagraphRunsOnARealRunAndReturnsRows() throws IOException {
    List<Path> notes = notes();
    assertEquals(3, notes.size(), notes.toString());
    TinyRun run = TinyRun.get();
    SparkSession spark = LocalSpark.get().newSession(); // its own temporary views
    int queries = 0;
    for (Path file : notes) {
      JsonObject note = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
      String name = note.get("name").getAsString();
      assertTrue(note.get("id").getAsString().matches("[0-9A-Z]{9}"), file + ": note id");
      assertTrue(
          file.getFileName().toString().endsWith("_" + note.get("id").getAsString() + ".zpln"),
          file + ": Zeppelin names note files <name>_<id>.zpln");
      List<String> sql = new ArrayList<>();
      List<String> titles = new ArrayList<>();
      String registration = null;
      for (JsonElement e : note.getAsJsonArray("paragraphs")) {
        JsonObject p = e.getAsJsonObject();
        assertTrue(
            p.has("id") && p.has("config") && p.getAsJsonObject("settings").has("forms"),
            name + ": paragraph fields");
        String text = p.get("text").getAsString();
        String interpreter = text.substring(0, text.indexOf('\n')).trim();
        if (registration == null && interpreter.equals("%spark")) {
          registration = text;
        }
        if (interpreter.equals("%spark.sql") || interpreter.equals("%sql")) {
          sql.add(text.substring(text.indexOf('\n') + 1));
          titles.add(p.get("title").getAsString());
        }
      }
      assertTrue(registration != null, name + ": a %spark paragraph registers the tables");
      Matcher m = TABLES.matcher(registration);
      assertTrue(m.find(), name + ": the registration paragraph lists its tables");
      List<String> tables =
          Stream.of(m.group(1).split(",")).map(s -> s.trim().replace("\"", "")).toList();
      assertEquals(AvroSchemas.TABLES, tables, name + ": the views are QDM's output tables");
      for (String t : tables) { // what the registration paragraph does, in this session
        spark.read().parquet(run.table(t).toString()).createOrReplaceTempView(t);
      }
      assertFalse(sql.isEmpty(), name + " has SQL paragraphs");
      for (int i = 0; i < sql.size(); i++) {
        String where = name + " / " + titles.get(i);
        String query = withDefaults(sql.get(i), where);
        assertFalse(query.contains("${"), where + ": unresolved form");
        List<Row> rows = spark.sql(query).collectAsList();
        assertFalse(rows.isEmpty(), where + " returns no rows:\n" + query);
        queries++;
      }
    }
    assertTrue(queries >= 15, "ran " + queries + " queries");
  }
}
