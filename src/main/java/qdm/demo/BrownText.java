package qdm.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns one POS-tagged Brown corpus file (form C, {@code word/tag} tokens) back into readable text:
 * one line per paragraph, headlines on lines of their own.
 *
 * <p>The tagged files put each sentence on a line; a paragraph starts after blank lines or at a
 * line indented with a tab; headline words carry tags ending in {@code -hl}. Words are rejoined
 * with the spacing of edited English: no space before closing punctuation ({@code , . ; : ? ! )}
 * and closing quotes), none after opening brackets and quotes. The corpus writes double quotes as
 * {@code ``} and {@code ''}, which become {@code "}; a lone {@code '} is a single quote whose side
 * is inferred (opening when no single quote is open, closing otherwise); {@code `} opens one.
 */
public final class BrownText {

  private BrownText() {}

  /** The paragraphs of a tagged file, each rebuilt as one line of text. */
  public static List<String> paragraphs(String tagged) {
    List<String> out = new ArrayList<>();
    List<String> words = new ArrayList<>();
    boolean blankBefore = true;
    for (String raw : tagged.split("\r?\n", -1)) {
      String line = raw.strip();
      if (line.isEmpty()) {
        blankBefore = true;
        continue;
      }
      List<String> tokens = List.of(line.split("\\s+"));
      boolean headline = tokens.stream().allMatch(BrownText::isHeadlineToken);
      if (blankBefore || raw.startsWith("\t") || headline) {
        flush(words, out);
      }
      for (String token : tokens) {
        words.add(word(token));
      }
      if (headline) {
        flush(words, out);
      }
      blankBefore = false;
    }
    flush(words, out);
    return out;
  }

  /** The whole file as text: paragraphs joined by newlines. */
  public static String render(String tagged) {
    return String.join("\n", paragraphs(tagged));
  }

  /** The word of a {@code word/tag} token: everything before the last slash. */
  static String word(String token) {
    int slash = token.lastIndexOf('/');
    return slash > 0 ? token.substring(0, slash) : token;
  }

  private static boolean isHeadlineToken(String token) {
    int slash = token.lastIndexOf('/');
    return slash > 0 && token.substring(slash + 1).endsWith("-hl");
  }

  private static void flush(List<String> words, List<String> out) {
    if (!words.isEmpty()) {
      out.add(join(words));
      words.clear();
    }
  }

  /** Joins corpus words with the spacing rules of the class comment. */
  static String join(List<String> words) {
    StringBuilder s = new StringBuilder();
    boolean glueNext = true; // no space before the first word
    boolean singleOpen = false;
    for (String w : words) {
      String text = w;
      boolean closes;
      boolean opens;
      switch (w) {
        case "``" -> {
          text = "\"";
          opens = true;
          closes = false;
        }
        case "''" -> {
          text = "\"";
          opens = false;
          closes = true;
        }
        case "`" -> {
          opens = true;
          closes = false;
          singleOpen = true;
          text = "'";
        }
        case "'" -> {
          opens = !singleOpen;
          closes = singleOpen;
          singleOpen = !singleOpen;
        }
        case "(", "[", "{" -> {
          opens = true;
          closes = false;
        }
        case ",", ".", ";", ":", "?", "!", ")", "]", "}" -> {
          opens = false;
          closes = true;
        }
        default -> {
          opens = false;
          closes = false;
        }
      }
      if (!glueNext && !closes) {
        s.append(' ');
      }
      s.append(text);
      glueNext = opens;
    }
    return s.toString();
  }
}
