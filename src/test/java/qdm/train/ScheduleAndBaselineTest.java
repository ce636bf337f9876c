package qdm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import qdm.data.Window;
import qdm.data.Windowing;

/** The learning-rate schedule's shape and the unigram baseline, against hand computations. */
class ScheduleAndBaselineTest {

  @Test
  void warmsUpLinearlyThenDecaysByCosineToTheFloor() {
    Schedule s = new Schedule(1.0, 10, 110, 0.1);
    assertEquals(0.1, s.at(1), 1e-12);
    assertEquals(1.0, s.at(10), 1e-12);
    assertEquals(0.1 + 0.9 * 0.5, s.at(60), 1e-12); // halfway through the decay
    assertEquals(0.1, s.at(110), 1e-12);
    assertEquals(0.1, s.at(500), 1e-12);
  }

  @Test
  void unigramBaselineScoresTheChunkTargetsWithAddOneCounts() {
    int[] train = {0, 0, 0, 1}; // counts 3, 1, 0 over a vocabulary of 3
    List<Window> windows = Windowing.chunks(new int[] {2, 0, 1, 1, 2, 2}, 3);
    // scored targets: 0, 1 (window 1) and 2, 2 (window 2); p = (c + 1) / (4 + 3)
    double nll = -(Math.log(4 / 7.0) + Math.log(2 / 7.0) + 2 * Math.log(1 / 7.0)) / 4;
    assertEquals(Math.exp(nll), UnigramBaseline.perplexity(train, 3, windows), 1e-12);
  }
}
