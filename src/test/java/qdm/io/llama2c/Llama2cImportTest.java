package qdm.io.llama2c;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.condition.Condition;
import qdm.model.Placement;
import qdm.model.Processing;
import qdm.probe.ForwardOutput;
import qdm.probe.ForwardProbe;
import qdm.probe.ForwardRequest;
import qdm.testing.Cli;
import qdm.tokenize.Tokenizer;

/**
 * {@code qdm import llama2c}. Oracles: a naive llama2.c forward pass (run.c's interleaved RoPE,
 * written here in double precision) on random checkpoints in llama2.c's layout; llama2.c's own
 * encoder (greedy merges of the highest-scoring adjacent pair, written here) on the real Llama-2
 * {@code tokenizer.bin}; and one-line refusals of broken files.
 */
class Llama2cImportTest {
  @TempDir Path tmp;

  /** A tiny llama2.c model: its header and its floats in run.c's order. */
  record Tiny(
      int dim,
      int hidden,
      int layers,
      int heads,
      int kvHeads,
      int vocab,
      int seqLen,
      boolean shared,
      float[][] parts) {
    static final String[] NAMES = {
      "emb",
      "rms_att",
      "wq",
      "wk",
      "wv",
      "wo",
      "rms_ffn",
      "w1",
      "w2",
      "w3",
      "rms_final",
      "freq",
      "wcls"
    };

    static Tiny random(boolean shared, long seed) {
      int dim = 16;
      int hidden = 24;
      int layers = 2;
      int heads = 4;
      int kvHeads = 2;
      int vocab = 300;
      int seq = 32;
      int hs = dim / heads;
      int kv = kvHeads * hs;
      Random r = new Random(seed);
      long[] sizes = {
        (long) vocab * dim,
        layers * dim,
        layers * dim * dim,
        layers * dim * kv,
        layers * dim * kv,
        layers * dim * dim,
        layers * dim,
        layers * hidden * dim,
        layers * dim * hidden,
        layers * hidden * dim,
        dim,
        (long) seq * hs,
        shared ? 0 : (long) vocab * dim
      };
      float[][] parts = new float[sizes.length][];
      for (int i = 0; i < sizes.length; i++) {
        parts[i] = new float[(int) sizes[i]];
        boolean norm = NAMES[i].startsWith("rms");
        for (int j = 0; j < parts[i].length; j++) {
          parts[i][j] =
              norm ? 1f + 0.1f * (float) r.nextGaussian() : 0.3f * (float) r.nextGaussian();
        }
      }
      return new Tiny(dim, hidden, layers, heads, kvHeads, vocab, seq, shared, parts);
    }

    byte[] bytes() {
      int n = 0;
      for (float[] p : parts) {
        n += p.length;
      }
      ByteBuffer b = ByteBuffer.allocate(28 + 4 * n).order(ByteOrder.LITTLE_ENDIAN);
      b.putInt(dim)
          .putInt(hidden)
          .putInt(layers)
          .putInt(heads)
          .putInt(kvHeads)
          .putInt(shared ? vocab : -vocab)
          .putInt(seqLen);
      for (float[] p : parts) {
        for (float v : p) {
          b.putFloat(v);
        }
      }
      return b.array();
    }

    float[] part(String name) {
      return parts[List.of(NAMES).indexOf(name)];
    }

    /** run.c's forward pass for a whole sequence, in doubles: the logits at every position. */
    double[][] naiveLogits(int[] ids) {
      int hs = dim / heads;
      int kvDim = kvHeads * hs;
      int groups = heads / kvHeads;
      double[][][] keys = new double[layers][ids.length][];
      double[][][] values = new double[layers][ids.length][];
      double[][] out = new double[ids.length][];
      for (int pos = 0; pos < ids.length; pos++) {
        double[] x = new double[dim];
        for (int i = 0; i < dim; i++) {
          x[i] = part("emb")[ids[pos] * dim + i];
        }
        for (int l = 0; l < layers; l++) {
          double[] xb = rms(x, part("rms_att"), l * dim);
          double[] q = matvec(part("wq"), l * dim * dim, xb, dim);
          double[] k = matvec(part("wk"), l * kvDim * dim, xb, kvDim);
          double[] v = matvec(part("wv"), l * kvDim * dim, xb, kvDim);
          // RoPE on interleaved pairs (i, i+1), frequency by the pair's place in its head
          for (int i = 0; i < dim; i += 2) {
            double freq = 1.0 / Math.pow(10000.0, (double) (i % hs) / hs);
            double c = Math.cos(pos * freq);
            double s = Math.sin(pos * freq);
            rotate(q, i, c, s);
            if (i < kvDim) {
              rotate(k, i, c, s);
            }
          }
          keys[l][pos] = k;
          values[l][pos] = v;
          double[] att = new double[dim];
          for (int h = 0; h < heads; h++) {
            int kvh = h / groups;
            double[] scores = new double[pos + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t <= pos; t++) {
              double dot = 0;
              for (int i = 0; i < hs; i++) {
                dot += q[h * hs + i] * keys[l][t][kvh * hs + i];
              }
              scores[t] = dot / Math.sqrt(hs);
              max = Math.max(max, scores[t]);
            }
            double sum = 0;
            for (int t = 0; t <= pos; t++) {
              scores[t] = Math.exp(scores[t] - max);
              sum += scores[t];
            }
            for (int t = 0; t <= pos; t++) {
              for (int i = 0; i < hs; i++) {
                att[h * hs + i] += scores[t] / sum * values[l][t][kvh * hs + i];
              }
            }
          }
          double[] o = matvec(part("wo"), l * dim * dim, att, dim);
          for (int i = 0; i < dim; i++) {
            x[i] += o[i];
          }
          xb = rms(x, part("rms_ffn"), l * dim);
          double[] h1 = matvec(part("w1"), l * hidden * dim, xb, hidden);
          double[] h3 = matvec(part("w3"), l * hidden * dim, xb, hidden);
          for (int i = 0; i < hidden; i++) {
            h1[i] = h1[i] / (1 + Math.exp(-h1[i])) * h3[i];
          }
          double[] f = matvec(part("w2"), l * dim * hidden, h1, dim);
          for (int i = 0; i < dim; i++) {
            x[i] += f[i];
          }
        }
        x = rms(x, part("rms_final"), 0);
        out[pos] = matvec(shared ? part("emb") : part("wcls"), 0, x, vocab);
      }
      return out;
    }

    private static void rotate(double[] v, int i, double c, double s) {
      double a = v[i];
      double b = v[i + 1];
      v[i] = a * c - b * s;
      v[i + 1] = a * s + b * c;
    }

    private double[] rms(double[] x, float[] w, int off) {
      double ss = 0;
      for (double v : x) {
        ss += v * v;
      }
      double scale = 1.0 / Math.sqrt(ss / x.length + 1e-5);
      double[] o = new double[x.length];
      for (int i = 0; i < x.length; i++) {
        o[i] = w[off + i] * x[i] * scale;
      }
      return o;
    }

    private static double[] matvec(float[] w, int off, double[] x, int rows) {
      double[] o = new double[rows];
      for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int c = 0; c < x.length; c++) {
          s += w[off + r * x.length + c] * x[c];
        }
        o[r] = s;
      }
      return o;
    }
  }

  /** A tokenizer.bin of {@code vocab} tokens: specials, 256 byte pieces, then letters. */
  private static byte[] tokenizerBin(int vocab) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(8);
    out.writeBytes(b.array());
    for (int i = 0; i < vocab; i++) {
      String piece =
          i == 0
              ? "<unk>"
              : i == 1
                  ? "\n<s>\n"
                  : i == 2
                      ? "\n</s>\n"
                      : i < 259 ? String.format("<0x%02X>", i - 3) : "t" + (i - 259);
      byte[] p = piece.getBytes(StandardCharsets.UTF_8);
      ByteBuffer e =
          ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(-i).putInt(p.length);
      out.writeBytes(e.array());
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private ForwardOutput forward(Path model, int[] ids) {
    long[][] rows = {java.util.Arrays.stream(ids).asLongStream().toArray()};
    return ForwardProbe.run(
        new ForwardRequest(
            model,
            Optional.empty(),
            rows,
            Placement.CPU,
            Processing.NONE,
            new Condition.Reference("fp"),
            Optional.empty()));
  }

  @Test
  void theImportedModelComputesWhatLlama2cComputes() throws Exception {
    for (boolean shared : new boolean[] {true, false}) {
      Tiny tiny = Tiny.random(shared, shared ? 1 : 2);
      Path ckpt = Files.write(tmp.resolve("tiny" + shared + ".bin"), tiny.bytes());
      Path tok = Files.write(tmp.resolve("tok.bin"), tokenizerBin(tiny.vocab()));
      Path out = tmp.resolve("hf" + shared);
      Cli.Result r =
          Cli.run(
              "import",
              "llama2c",
              "--checkpoint",
              ckpt.toString(),
              "--tokenizer",
              tok.toString(),
              "--out",
              out.toString());
      assertEquals(0, r.exit(), r.all());
      int[] ids = new Random(5).ints(20, 0, tiny.vocab()).toArray();
      double[][] expected = tiny.naiveLogits(ids);
      float[] got = forward(out, ids).get("logits").data();
      double max = 0;
      for (int t = 0; t < ids.length; t++) {
        for (int v = 0; v < tiny.vocab(); v++) {
          max = Math.max(max, Math.abs(expected[t][v] - got[t * tiny.vocab() + v]));
        }
      }
      assertTrue(max < 1e-4, "shared=" + shared + ": max |naive - imported| = " + max);
      String config = Files.readString(out.resolve("config.json"));
      assertTrue(config.contains("\"tie_word_embeddings\": " + shared), config);
    }
  }

  @Test
  void brokenFilesAreRefusedInOneLineAndNothingIsWritten() throws Exception {
    Tiny tiny = Tiny.random(true, 3);
    byte[] bytes = tiny.bytes();
    Path tok = Files.write(tmp.resolve("tok.bin"), tokenizerBin(tiny.vocab()));
    Path cut =
        Files.write(tmp.resolve("cut.bin"), java.util.Arrays.copyOf(bytes, bytes.length - 40));
    Path longer =
        Files.write(tmp.resolve("long.bin"), java.util.Arrays.copyOf(bytes, bytes.length + 8));
    Path good = Files.write(tmp.resolve("good.bin"), bytes);
    Path otherTok = Files.write(tmp.resolve("other.bin"), tokenizerBin(tiny.vocab() + 5));
    Map<Path[], String> cases = new java.util.LinkedHashMap<>();
    cases.put(new Path[] {cut, tok}, "the file is truncated");
    cases.put(new Path[] {longer, tok}, "the file is longer");
    cases.put(new Path[] {good, otherTok}, "305 tokens, but the checkpoint's vocabulary has 300");
    int n = 0;
    for (Map.Entry<Path[], String> c : cases.entrySet()) {
      Path out = tmp.resolve("out" + n++);
      Cli.Result r =
          Cli.run(
              "import",
              "llama2c",
              "--checkpoint",
              c.getKey()[0].toString(),
              "--tokenizer",
              c.getKey()[1].toString(),
              "--out",
              out.toString());
      assertEquals(2, r.exit(), r.all());
      assertTrue(r.err().startsWith("qdm: ") && r.err().contains(c.getValue()), r.all());
      assertEquals(1, r.err().strip().lines().count(), r.all());
      assertFalse(Files.exists(out), r.all());
    }
  }

  @Test
  void rotateHalfMovesInterleavedPairsToHalves() {
    // one head of size 4, rows of width 1: rows (0,1,2,3) = pairs (0,1), (2,3)
    float[] w = {10, 11, 12, 13};
    assertArrayEquals(new float[] {10, 12, 11, 13}, Llama2cCheckpoint.rotateHalf(w, 1, 4, 1));
  }

  /** llama2.c's encoder: code points (or their bytes), then greedy highest-score merges. */
  private static List<Integer> naiveEncode(
      Llama2cTokenizer t, Map<String, Integer> normal, String text) {
    List<Integer> ids = new ArrayList<>();
    if (text.isEmpty()) {
      return ids;
    }
    ids.add(normal.get(Llama2cTokenizer.SPACE));
    text.codePoints()
        .forEach(
            cp -> {
              String c = new String(Character.toChars(cp)).replace(" ", Llama2cTokenizer.SPACE);
              Integer id = normal.get(c);
              if (id != null) {
                ids.add(id);
              } else {
                for (byte b : c.getBytes(StandardCharsets.UTF_8)) {
                  ids.add((b & 0xFF) + 3);
                }
              }
            });
    while (true) {
      float best = -1e10f;
      int bestAt = -1;
      int bestId = -1;
      for (int i = 0; i + 1 < ids.size(); i++) {
        Integer id = normal.get(t.piece(ids.get(i)) + t.piece(ids.get(i + 1)));
        if (id != null && t.score(id) > best) {
          best = t.score(id);
          bestAt = i;
          bestId = id;
        }
      }
      if (bestAt < 0) {
        return ids;
      }
      ids.set(bestAt, bestId);
      ids.remove(bestAt + 1);
    }
  }

  @Test
  void theConvertedTokenizerEncodesAsLlama2cDoes() throws Exception {
    Path bin = Path.of("src/test/resources/llama2c/tokenizer.bin");
    Llama2cTokenizer t = Llama2cTokenizer.read(bin, 32000);
    assertEquals("<0x0A>", t.piece(13));
    assertEquals("\u2581t", t.piece(260));
    Map<String, Integer> normal = new HashMap<>();
    for (int i = 0; i < t.size(); i++) {
      if (t.normal(i)) {
        normal.putIfAbsent(t.piece(i), i);
      }
    }
    Path json = tmp.resolve("tokenizer.json");
    Files.writeString(json, t.toTokenizerJson().toString());
    List<String> lines =
        new ArrayList<>(
            Files.readAllLines(Path.of("assets/demo/brown/heldout.txt"), StandardCharsets.UTF_8)
                .stream()
                .filter(l -> !l.isBlank())
                .limit(2500)
                .toList());
    lines.addAll(
        List.of(
            "Once upon a time, there was a little girl named Lily.",
            "naïve café — 東京 🙂 tab\tand  two spaces",
            "\u2581 already",
            "x"));
    int checked = 0;
    try (Tokenizer hf = Tokenizer.load(json)) {
      for (String line : lines) {
        List<Integer> expected = naiveEncode(t, normal, line);
        long[] got = hf.encode(line);
        List<Integer> gotList = new ArrayList<>();
        for (long g : got) {
          gotList.add((int) g);
        }
        assertEquals(expected, gotList, line);
        checked++;
      }
    }
    assertTrue(checked > 2000, "lines checked: " + checked);
  }
}
