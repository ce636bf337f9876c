package qdm.condition;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import qdm.QdmException;
import qdm.compress.Compressed;
import qdm.compress.Compression;
import qdm.compress.Method;
import qdm.compress.Param;
import qdm.compress.Settings;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.model.Model;
import qdm.model.Nonlinearity;
import qdm.model.Placement;
import qdm.model.Processing;
import qdm.model.TensorRole;
import qdm.model.TorchEngine;
import qdm.model.Weights;
import qdm.model.neox.GptNeoXConfig;

/**
 * The condition's one grammar: the spec string and the HOCON object read the same declarations,
 * give the same canonical names and round-trip; a method registered from outside is one class plus
 * one registry call and works in both syntaxes and in {@link ConditionWeights}.
 */
class ConditionGrammarTest {

  /**
   * A throwaway method: multiplies the target weights by {@code factor}, negated with {@code
   * :flip}. One class, registered below.
   */
  record Scale(int factor, boolean flip, Set<TensorRole> targets) implements Compression {
    static final Method METHOD =
        new Method(
            "scale",
            "multiplies weights by an integer",
            List.of(
                Param.integer(
                    "factor",
                    "factor",
                    "FACTOR",
                    v -> (int) v >= 1 ? null : "must be at least 1, got " + v),
                Param.flag("flip", "flip"),
                Param.targets()),
            s -> new Scale(s.integer("factor"), s.flag("flip"), s.roles("targets")));

    @Override
    public Method method() {
      return METHOD;
    }

    @Override
    public Settings settings() {
      return Settings.of("factor", factor, "flip", flip, "targets", targets);
    }

    @Override
    public Compressed apply(Weights base) {
      float k = flip ? -factor : factor;
      return new Compressed(
          base.derive(
              (name, m) ->
                  targets.contains(base.role(name))
                      ? base.get(name).mul(k).toType(base.get(name).getDataType(), false)
                      : null),
          new qdm.compress.CompressionReport("scale", List.of(), 0, 0, 0, 0, 0));
    }
  }

  static {
    SimulatedMethods.register(Scale.METHOD);
  }

  private static final String CONFIG =
      """
      qdm {
        run-name = t
        model.path = m
        sae.path = s
        corpus.paths = [c.txt]
        conditions = [ { method = none }, %s ]
      }
      """;

  private static Condition fromConfig(String object) {
    AuditConfig c = AuditConfigs.parse(CONFIG.formatted(object), List.of(), "test.conf");
    return c.conditions().get(1);
  }

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "rtn:4:g32:asym | method = rtn, bits = 4, group-size = 32, asymmetric = true"
            + " | rtn4-g32-asym",
        "rtn:6:tl | method = rtn, bits = 6, convention = tl | rtn6-tl",
        "rtn:8:targets=decoder+embed+head | method = rtn, bits = 8, targets = [embeddings, lm-head]"
            + " | rtn8@decoder+embed+head",
        "prune:0.3:global:tl | method = prune, sparsity = 0.3, global = true, convention = tl"
            + " | prune30-global-tl",
        "prune:0.175 | method = prune, sparsity = 0.175 | prune17.5",
        "nf4:b128:dq | method = nf4, blocksize = 128, double-quant = true | nf4-b128-dq",
        "scale:3:flip | method = scale, factor = 3, flip = true | scale3-flip",
        "none | method = none | fp"
      })
  void bothSyntaxesGiveOneConditionAndOneName(String spec, String hocon, String name) {
    Condition fromSpec = ConditionSyntax.parse(spec);
    Condition fromHocon =
        hocon.contains("none")
            ? AuditConfigs.parse(CONFIG.formatted("{ method = rtn, bits = 4 }"), List.of(), "t")
                .conditions()
                .get(0)
            : fromConfig("{ " + hocon + " }");
    assertEquals(name, fromSpec.name());
    assertEquals(fromSpec, fromHocon);
    assertEquals(spec, fromSpec.spec());
    // the spec reads back to the same condition
    assertEquals(fromSpec, ConditionSyntax.parse(fromSpec.spec()));
  }

  @Test
  void theConfigDefaultConventionLeavesNoSuffixAndTheOtherOneShows() {
    String tl =
        CONFIG.replace(
            "corpus.paths = [c.txt]", "corpus.paths = [c.txt]\n compression.convention = tl");
    AuditConfig c =
        AuditConfigs.parse(
            tl.formatted("{ method = rtn, bits = 6 }, { method = rtn, bits = 6, convention = hf }"),
            List.of(),
            "t");
    assertEquals(
        List.of("fp", "rtn6", "rtn6-hf"), c.conditions().stream().map(Condition::name).toList());
    assertEquals("rtn:6:tl", c.conditions().get(1).spec());
  }

  @Test
  void aRegisteredMethodIsCheckedLikeTheBuiltInOnes() {
    String spec =
        assertThrows(QdmException.class, () -> ConditionSyntax.parse("scale:0")).getMessage();
    assertEquals("scale factor must be at least 1, got 0", spec);
    String config =
        assertThrows(QdmException.class, () -> fromConfig("{ method = scale, factor = 0 }"))
            .getMessage();
    assertTrue(config.contains("qdm.conditions[1].factor: must be at least 1, got 0"), config);
    String other =
        assertThrows(
                QdmException.class, () -> fromConfig("{ method = scale, factor = 2, bits = 4 }"))
            .getMessage();
    assertTrue(other.contains("qdm.conditions[1].bits: does not apply to method = scale"), other);
    String unknown =
        assertThrows(QdmException.class, () -> ConditionSyntax.parse("scale:2:x")).getMessage();
    assertTrue(
        unknown.contains("expected scale:FACTOR[:flip][:targets=decoder+embed+head]"), unknown);
    assertTrue(ConditionSyntax.syntaxes().contains("scale:FACTOR[:flip]"));
  }

  @Test
  void aRegisteredMethodMakesWeightsThroughTheOneFunction() {
    try (NDManager root = TorchEngine.newManager(Device.cpu());
        Model model =
            Model.random(
                new GptNeoXConfig(
                    16, 8, 1, 2, 16, 2, 10000, 1e-5f, true, true, false, Nonlinearity.GELU),
                root,
                Device.cpu(),
                DataType.FLOAT32,
                0.5f,
                7)) {
      ReferenceModel ref = new ReferenceModel(model, null, Processing.NONE, root, Placement.CPU);
      try (Compressed c = ConditionWeights.derive(ConditionSyntax.parse("scale:3:flip"), ref)) {
        assertEquals("scale3-flip", c.report().compression());
        for (String name : model.weights().names()) {
          float[] w = model.weights().get(name).toFloatArray();
          float[] got = c.weights().get(name).toFloatArray();
          boolean target = model.weights().role(name) == TensorRole.DECODER_LINEAR;
          float[] expected = new float[w.length];
          for (int i = 0; i < w.length; i++) {
            expected[i] = target ? -3f * w[i] : w[i];
          }
          assertArrayEquals(expected, got, name);
        }
      }
    }
  }

  @Test
  void aMatchedConditionNeedsItsSearchBeforeItHasWeights() {
    var m =
        assertInstanceOf(
            Condition.MatchedPruning.class,
            fromConfig("{ method = prune, match-perplexity-of = fp, global = true }"));
    assertEquals("prune-matched-fp-global", m.name());
    assertEquals(ConditionSyntax.parse("prune:0.25:global").spec(), m.at(0.25).spec());
    assertEquals(m.name(), m.at(0.25).name());
    assertThrows(IllegalStateException.class, () -> ConditionWeights.derive(m, null));
  }

  @Test
  void conditionsTravelToExecutorsAsThemselves() throws Exception {
    for (Condition c :
        List.of(
            ConditionSyntax.parse("rtn:4:asym:tl"),
            ConditionSyntax.parse("nf4:dq"),
            fromConfig("{ method = checkpoint, path = /x/q.gguf }"),
            fromConfig("{ method = prune, match-perplexity-of = fp }"))) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
        out.writeObject(c);
      }
      try (ObjectInputStream in =
          new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
        assertEquals(c, in.readObject());
      }
    }
  }

  @Test
  void checkpointsAreNamedAfterTheirPath() {
    Condition c = fromConfig("{ method = checkpoint, path = \"/models/q4.gguf\", format = gguf }");
    assertEquals("checkpoint-q4", c.name());
    assertEquals("checkpoint:gguf:/models/q4.gguf", c.spec());
    assertEquals("checkpoint", c.method());
  }
}
