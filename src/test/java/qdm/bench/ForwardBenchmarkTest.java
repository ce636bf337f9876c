package qdm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import qdm.model.neox.GptNeoXConfig;

/** The benchmark's FLOP count against the same count done by hand for Pythia-70M's shape. */
class ForwardBenchmarkTest {

  @Test
  void flopsPerTokenOfPythia70m() {
    GptNeoXConfig c = ForwardBenchmark.pythia70m();
    assertEquals(6, c.numLayers());
    assertEquals(512, c.hiddenSize());
    assertEquals(8, c.numHeads());
    assertEquals(2048, c.intermediateSize());
    assertEquals(50304, c.vocabSize());
    assertEquals(16, c.rotaryDims()); // rotary_pct 0.25 of head dim 64
    assertEquals(true, c.parallelResidual());
    // per layer: qkv 3*512*512 + dense 512*512 + up and down 2*512*2048 multiply-adds,
    // plus QK^T and PV over 512 positions of width 512
    long linear = 3L * 512 * 512 + 512L * 512 + 2L * 512 * 2048;
    long attention = 2L * 2 * 512 * 512;
    long head = 50304L * 512;
    assertEquals(
        6 * (2 * linear + attention) + 2 * head,
        ForwardBenchmark.flopsPerToken(c, 512, 512, 6, true),
        0.0);
    assertEquals(95_551_488.0, ForwardBenchmark.flopsPerToken(c, 512, 512, 6, true), 0.0);
    // the truncated pass: blocks 0..4, no head
    assertEquals(
        5 * (2 * linear + attention), ForwardBenchmark.flopsPerToken(c, 512, 512, 5, false), 0.0);
  }
}
