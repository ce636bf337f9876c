package qdm.probe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.cli.Main;
import qdm.io.HostTensor;
import qdm.testing.Reference;
import qdm.testing.TinyAudit;

/**
 * {@code forward --sae}: sae_acts against a naive ReLU SAE applied to the hidden state the output
 * itself reports for the hook ({@code blocks.1.hook_resid_post} = {@code hidden_states.2}), and
 * compressed forwards against the shared reference expectations.
 */
class ForwardSaeTest {
  @TempDir Path tmp;

  int forward(String... extra) {
    Path dir = Reference.model("neox");
    String[] base = {
      "forward",
      "--model",
      dir.toString(),
      "--input-ids",
      dir.resolve("inputs.json").toString(),
      "--out",
      tmp.resolve("out.safetensors").toString()
    };
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    return Main.run(args);
  }

  @Test
  void saeActsAreTheNaiveEncodingOfTheHookResidual() throws Exception {
    Path sae = Files.createDirectories(tmp.resolve("sae"));
    TinyAudit.writeSae(sae, 64, 48, 3);
    assertEquals(0, forward("--sae", sae.toString(), "--compress", "rtn:4"));
    Path out = tmp.resolve("out.safetensors");
    HostTensor h = Reference.read(out, "hidden_states.2");
    HostTensor acts = Reference.read(out, "sae_acts");
    assertArrayEquals(new long[] {2, 24, 48}, acts.shape());
    float[] wEnc = Reference.read(sae.resolve("sae_weights.safetensors"), "W_enc").data();
    float[] bEnc = Reference.read(sae.resolve("sae_weights.safetensors"), "b_enc").data();
    float[] bDec = Reference.read(sae.resolve("sae_weights.safetensors"), "b_dec").data();
    int fired = 0;
    for (int t = 0; t < 48; t++) {
      for (int f = 0; f < 48; f++) {
        double pre = bEnc[f];
        for (int i = 0; i < 64; i++) {
          pre += (h.data()[t * 64 + i] - bDec[i]) * wEnc[i * 48 + f];
        }
        double expected = Math.max(0, pre);
        assertEquals(expected, acts.data()[t * 48 + f], 1e-4, "token " + t + " feature " + f);
        fired += expected > 0 ? 1 : 0;
      }
    }
    assertTrue(fired > 0 && fired < 48 * 48, "a mix of active and inactive entries: " + fired);
    // the compressed hidden states still match the shared expectation
    Reference.assertClose(
        Reference.read(
            Reference.model("neox").resolve("expected-rtn4.safetensors"), "hidden_states.2"),
        h,
        1e-4,
        "rtn4 hs.2");
  }

  @Test
  void anSaeOfTheWrongWidthFailsBeforeAnyCompute() throws Exception {
    Path sae = Files.createDirectories(tmp.resolve("wide"));
    TinyAudit.writeSae(sae, 32, 16, 3);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream old = System.err;
    int code;
    try {
      System.setErr(new PrintStream(err, true));
      code =
          Main.commandLine()
              .setErr(new java.io.PrintWriter(err, true))
              .execute(
                  "forward",
                  "--model",
                  Reference.model("neox").toString(),
                  "--input-ids",
                  Reference.model("neox").resolve("inputs.json").toString(),
                  "--out",
                  tmp.resolve("o.safetensors").toString(),
                  "--sae",
                  sae.toString());
    } finally {
      System.setErr(old);
    }
    assertEquals(2, code);
    assertTrue(err.toString().contains("d_in"), err.toString());
    assertFalse(Files.exists(tmp.resolve("o.safetensors")));
  }
}
