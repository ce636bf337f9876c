package qdm.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class WindowingTest {
  static int[] range(int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    return a;
  }

  @Test
  void chunksDropTheShortTail() {
    List<Window> w = Windowing.chunks(range(25), 8);
    assertEquals(3, w.size());
    assertArrayEquals(new int[] {16, 17, 18, 19, 20, 21, 22, 23}, w.get(2).tokens());
    assertEquals(16, w.get(2).start());
    assertEquals(7, w.get(0).scoredTargets());
  }

  @Test
  void slidingScoresEachTokenButTheFirstExactlyOnce() {
    for (int n : new int[] {1, 2, 9, 10, 11, 37, 100}) {
      for (int[] ws : new int[][] {{10, 3}, {10, 9}, {4, 1}, {2, 1}, {2048, 512}}) {
        int[] stream = range(n);
        int[] scored = new int[n];
        for (Window w : Windowing.sliding(stream, ws[0], ws[1])) {
          assertEquals(w.start(), w.tokens()[0]);
          for (int j = Math.max(w.scoreFrom(), 1); j < w.length(); j++) {
            scored[w.tokens()[j]]++;
          }
        }
        for (int t = 0; t < n; t++) {
          assertEquals(t == 0 ? 0 : 1, scored[t], "token " + t + " n=" + n);
        }
      }
    }
  }

  @Test
  void slidingMatchesTheHuggingFaceLoop() {
    // HF: for begin in range(0, N, S): end = min(begin + W, N); trg_len = end - prev_end
    // N = 23, W = 10, S = 4 by hand: (begin, end, trg_len)
    int[][] expected = {{0, 10, 10}, {4, 14, 4}, {8, 18, 4}, {12, 22, 4}, {16, 23, 1}};
    List<Window> w = Windowing.sliding(range(23), 10, 4);
    assertEquals(expected.length, w.size());
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i][0], w.get(i).start());
      assertEquals(expected[i][1], w.get(i).start() + w.get(i).length());
      assertEquals(expected[i][2], w.get(i).length() - w.get(i).scoreFrom());
      assertEquals(i, w.get(i).id());
    }
  }

  @Test
  void rejectsBadParameters() {
    assertThrows(IllegalArgumentException.class, () -> Windowing.chunks(range(4), 1));
    assertThrows(IllegalArgumentException.class, () -> Windowing.sliding(range(4), 4, 5));
    // stride == length would leave the first token of every window unscored
    assertThrows(IllegalArgumentException.class, () -> Windowing.sliding(range(4), 4, 4));
  }
}
