package qdm.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The demo's deterministic split of the Brown corpus by file: within each genre (the letter after
 * the {@code c} of {@code ca01}), files in name order, every {@value #EVERY}th is held out. So each
 * genre keeps its share in both parts, and no text of a held-out file is ever trained on.
 *
 * @param train files to train the tokenizer, the model and the SAE on, in name order
 * @param heldOut files for evaluation and the audit, in name order
 */
public record BrownSplit(List<String> train, List<String> heldOut) {
  /** One held-out file in this many per genre. */
  public static final int EVERY = 5;

  /** Names of the corpus files in the package ({@code ca01} ... {@code cr09}). */
  public static final Pattern FILE = Pattern.compile("c[a-r][0-9]{2}");

  public BrownSplit {
    train = List.copyOf(train);
    heldOut = List.copyOf(heldOut);
  }

  /** Splits the corpus file names among {@code names}; other names are ignored. */
  public static BrownSplit of(List<String> names) {
    Map<Character, List<String>> byGenre = new TreeMap<>();
    for (String n : names) {
      if (FILE.matcher(n).matches()) {
        byGenre.computeIfAbsent(n.charAt(1), g -> new ArrayList<>()).add(n);
      }
    }
    List<String> train = new ArrayList<>();
    List<String> heldOut = new ArrayList<>();
    for (List<String> files : byGenre.values()) {
      files.sort(null);
      for (int i = 0; i < files.size(); i++) {
        (i % EVERY == EVERY - 1 ? heldOut : train).add(files.get(i));
      }
    }
    train.sort(null);
    heldOut.sort(null);
    return new BrownSplit(train, heldOut);
  }
}
