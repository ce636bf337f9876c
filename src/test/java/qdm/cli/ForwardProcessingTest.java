package qdm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.io.HostTensor;
import qdm.testing.Cli;
import qdm.testing.Reference;

/**
 * {@code jobs/qdm forward --processing transformerlens --compress rtn:6:tl} (and prune:0.3:tl, and
 * no compression) through the command line on both reference architectures. Properties: the
 * processed model without compression has the reference NLL; compression moves it (the mean by
 * little at 6 bits); the output keys are those of the unprocessed pass; a group size with :tl is
 * one message.
 */
class ForwardProcessingTest {
  @TempDir Path tmp;

  private HostTensor run(String model, String out, String... extra) {
    Path dir = Reference.model(model);
    String[] base = {
      "forward",
      "--model",
      dir.toString(),
      "--input-ids",
      dir.resolve("inputs.json").toString(),
      "--out",
      tmp.resolve(out).toString()
    };
    String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    Cli.Result r = Cli.run(args);
    assertEquals(0, r.exit(), r.all());
    return Reference.read(tmp.resolve(out), "nll");
  }

  private static double mean(HostTensor t) {
    double s = 0;
    for (float v : t.data()) {
      s += v;
    }
    return s / t.data().length;
  }

  @Test
  void processedForwardRunsWithAndWithoutTlCompressionOnBothArchitectures() {
    for (String model : new String[] {"neox", "gemma2"}) {
      HostTensor expected =
          Reference.read(Reference.model(model).resolve("expected.safetensors"), "nll");
      HostTensor fp = run(model, model + "-fp.st", "--processing", "transformerlens");
      assertTrue(
          Reference.maxAbsDiff(expected, fp) <= 1e-4,
          model + " fp " + Reference.maxAbsDiff(expected, fp));
      HostTensor rtn =
          run(
              model,
              model + "-rtn.st",
              "--processing",
              "transformerlens",
              "--compress",
              "rtn:6:tl");
      double moved = Reference.maxAbsDiff(fp, rtn);
      assertTrue(moved > 1e-5, model + " rtn:6:tl did not change the NLL");
      assertTrue(
          Math.abs(mean(fp) - mean(rtn)) < 0.05,
          model + " rtn:6:tl moved the mean NLL " + "from " + mean(fp) + " to " + mean(rtn));
      HostTensor prune =
          run(
              model,
              model + "-prune.st",
              "--processing",
              "transformerlens",
              "--compress",
              "prune:0.3:tl");
      assertTrue(Reference.maxAbsDiff(fp, prune) > 1e-4, model + " prune:0.3:tl");
      for (int i = 0; i <= (model.equals("neox") ? 3 : 4); i++) {
        Reference.read(tmp.resolve(model + "-rtn.st"), "hidden_states." + i);
      }
    }
    Path dir = Reference.model("neox");
    Cli.Result bad =
        Cli.run(
            "forward",
            "--model",
            dir.toString(),
            "--input-ids",
            dir.resolve("inputs.json").toString(),
            "--out",
            tmp.resolve("x.st").toString(),
            "--compress",
            "rtn:4:g16:tl");
    assertEquals(2, bad.exit(), bad.all());
    assertTrue(bad.err().contains(":g16 and :tl"), bad.all());
  }
}
