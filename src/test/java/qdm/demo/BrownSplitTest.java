package qdm.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The split's properties: by file, every fifth of each genre, independent of input order. */
class BrownSplitTest {

  @Test
  void holdsOutEveryFifthFileOfEachGenre() {
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= 12; i++) {
      names.add(String.format("ca%02d", i));
    }
    for (int i = 1; i <= 4; i++) {
      names.add(String.format("cr%02d", i));
    }
    names.add("README");
    names.add("cats.txt");
    List<String> shuffled = new ArrayList<>(names);
    Collections.shuffle(shuffled, new java.util.Random(3));
    BrownSplit split = BrownSplit.of(shuffled);
    assertEquals(List.of("ca05", "ca10"), split.heldOut());
    assertEquals(14, split.train().size());
    Set<String> all = new HashSet<>(split.train());
    all.addAll(split.heldOut());
    assertEquals(16, all.size(), "disjoint, and only corpus files");
    assertTrue(split.train().stream().allMatch(n -> BrownSplit.FILE.matcher(n).matches()));
    assertEquals(split, BrownSplit.of(names));
  }
}
