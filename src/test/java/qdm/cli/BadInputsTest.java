package qdm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import qdm.io.HostTensor;
import qdm.testing.Checkpoints;
import qdm.testing.Cli;
import qdm.testing.LocalSpark;
import qdm.testing.TinyAudit;

/**
 * The catalogue of bad inputs QDM is tested against ({@code docs/bad-inputs.md} lists every case by
 * its id, with the message a user sees). Each case corrupts real files of a tiny audit in a temp
 * directory, runs the real command line in-process, and asserts: exit code 2, exactly one {@code
 * qdm:} message, no stack trace, the message naming the file or key (and the place in it), and that
 * nothing was written (no run directory, no output file).
 */
class BadInputsTest {
  private static final String W = "gpt_neox.layers.1.mlp.dense_h_to_4h.weight";
  private static final Path CATALOGUE = Path.of("docs/bad-inputs.md");

  @TempDir static Path tmp;
  private static int next;

  @BeforeAll
  static void sharedSession() {
    LocalSpark.get(); // the suite's session, before any command makes one of its own
  }

  /**
   * One bad input: {@code setup} corrupts a fresh tiny audit and returns the command's arguments;
   * the message must contain every one of {@code expected}, none of {@code unexpected}, and nothing
   * may exist at {@code written} (relative to the case's dir).
   */
  record Case(
      String id,
      Setup setup,
      List<String> expected,
      List<String> unexpected,
      List<String> written) {}

  interface Setup {
    String[] apply(Fixture f) throws IOException;
  }

  /** A tiny audit of one case: model, SAE, corpus, a config file, and where outputs would go. */
  record Fixture(Path dir, TinyAudit audit) {
    Path model() {
      return audit.model();
    }

    Path weights() {
      return audit.model().resolve("model.safetensors");
    }

    Path saeWeights() {
      return audit.sae().resolve("sae_weights.safetensors");
    }

    /** The config with extra HOCON lines appended inside {@code qdm { }}. */
    String conf(String... extra) throws IOException {
      String text = audit.config("bad", 512);
      int end = text.lastIndexOf('}');
      text = text.substring(0, end) + String.join("\n", extra) + "\n}\n";
      Path p = dir.resolve("bad.conf");
      Files.writeString(p, text);
      return p.toString();
    }

    String ids(String json) throws IOException {
      Path p = dir.resolve("ids.json");
      Files.writeString(p, json);
      return p.toString();
    }

    void editConfig(java.util.function.Consumer<JsonObject> edit) throws IOException {
      Path p = model().resolve("config.json");
      JsonObject c = JsonParser.parseString(Files.readString(p)).getAsJsonObject();
      edit.accept(c);
      Files.writeString(p, c.toString());
    }

    String out() {
      return dir.resolve("forward.safetensors").toString();
    }
  }

  static void editJson(Path p, java.util.function.Consumer<JsonObject> edit) throws IOException {
    JsonObject c = JsonParser.parseString(Files.readString(p)).getAsJsonObject();
    edit.accept(c);
    Files.writeString(p, c.toString());
  }

  /** Sets element {@code index} of a float16 tensor to the half bits {@code bits}, in place. */
  static void setHalf(Path file, String name, int index, short bits) throws IOException {
    long begin;
    try (var st = qdm.io.SafetensorsFile.open(file)) {
      begin = st.info(name).begin();
    }
    byte[] b = Files.readAllBytes(file);
    long header =
        java.nio.ByteBuffer.wrap(b, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    int at = (int) (8 + header + begin + 2L * index);
    b[at] = (byte) bits;
    b[at + 1] = (byte) (bits >> 8);
    Files.write(file, b);
  }

  private static Case c(String id, Setup setup, List<String> expected, String... written) {
    return new Case(id, setup, expected, List.of(), List.of(written));
  }

  private static Case c(
      String id, Setup setup, List<String> expected, List<String> unexpected, String... written) {
    return new Case(id, setup, expected, unexpected, List.of(written));
  }

  static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    // ---- non-finite weights (model and SAE), in every command that computes with them
    cases.add(
        c(
            "model-nan-dry-run",
            f -> {
              Checkpoints.set(f.weights(), W, 1000, Float.NaN);
              return new String[] {"run", f.conf(), "--dry-run"};
            },
            List.of("model.safetensors", W, "NaN at index [15, 40]", "element 1000"),
            "out"));
    cases.add(
        c(
            "model-nan-run",
            f -> {
              Checkpoints.set(f.weights(), W, 5, Float.NaN);
              return new String[] {"run", f.conf()};
            },
            List.of("model.safetensors", W, "NaN at index [0, 5]"),
            "out"));
    cases.add(
        c(
            "model-inf-forward",
            f -> {
              Checkpoints.set(
                  f.weights(), "gpt_neox.embed_in.weight", 64 * 7 + 3, Float.NEGATIVE_INFINITY);
              return new String[] {
                "forward",
                "--model",
                f.model().toString(),
                "--input-ids",
                f.ids("{\"input_ids\": [[1, 2, 3]]}"),
                "--out",
                f.out()
              };
            },
            List.of("model.safetensors", "gpt_neox.embed_in.weight", "-Inf at index [7, 3]"),
            "forward.safetensors"));
    cases.add(
        c(
            "model-nan-drift",
            f -> {
              Checkpoints.set(f.weights(), W, 0, Float.NaN);
              return new String[] {"drift", f.conf(), "--windows", "2"};
            },
            List.of("model.safetensors", W, "NaN at index [0, 0]"),
            "out"));
    cases.add(
        c(
            "model-nan-train-sae",
            f -> {
              Checkpoints.set(f.weights(), W, 0, Float.NaN);
              return new String[] {
                "train-sae",
                "--model",
                f.model().toString(),
                "--hook",
                TinyAudit.HOOK,
                "--corpus",
                f.audit().corpus().resolve("a.txt").toString(),
                "--out",
                f.dir().resolve("sae-out").toString(),
                "--steps",
                "1"
              };
            },
            List.of("model.safetensors", W, "NaN at index"),
            "sae-out"));
    cases.add(
        c(
            "sae-nan-w-enc",
            f -> {
              Checkpoints.set(f.saeWeights(), "W_enc", 64 * 5 + 17, Float.NaN);
              return new String[] {"run", f.conf(), "--dry-run"};
            },
            List.of("qdm.sae", "sae_weights.safetensors", "'W_enc'", "NaN at index [3, 49]"),
            "out"));
    cases.add(
        c(
            "sae-nan-b-dec-run",
            f -> {
              Checkpoints.set(f.saeWeights(), "b_dec", 9, Float.NaN);
              return new String[] {"run", f.conf()};
            },
            List.of("sae_weights.safetensors", "'b_dec'", "NaN at index [9]"),
            "out"));
    cases.add(
        c(
            "sae-inf-forward",
            f -> {
              Checkpoints.set(f.saeWeights(), "b_enc", 2, Float.POSITIVE_INFINITY);
              return new String[] {
                "forward",
                "--model",
                f.model().toString(),
                "--sae",
                f.audit().sae().toString(),
                "--input-ids",
                f.ids("{\"input_ids\": [[1, 2]]}"),
                "--out",
                f.out()
              };
            },
            List.of("sae_weights.safetensors", "'b_enc'", "+Inf at index [2]"),
            "forward.safetensors"));

    cases.add(
        c(
            "model-nan-bf16-weights-file",
            f -> {
              Path bf16 = f.dir().resolve("model-bf16.safetensors");
              var t = Checkpoints.read(f.weights());
              t.get(W).data()[77] = Float.NaN;
              qdm.io.SafetensorsWriter w = new qdm.io.SafetensorsWriter();
              t.forEach(w::add);
              w.write(bf16, qdm.io.DType.BF16);
              return new String[] {
                "forward",
                "--model",
                f.model().toString(),
                "--weights",
                bf16.toString(),
                "--input-ids",
                f.ids("{\"input_ids\": [[1, 2]]}"),
                "--out",
                f.out()
              };
            },
            List.of("model-bf16.safetensors", W, "NaN at index [1, 13]"),
            "forward.safetensors"));
    cases.add(
        c(
            "sae-scaling-factor-nan",
            f -> {
              Path cfg = f.audit().sae().resolve("cfg.json");
              Files.writeString(
                  cfg,
                  Files.readString(cfg)
                      .replace(
                          "\"normalize_activations\":\"none\"",
                          "\"normalize_activations\":\"expected_average_only_in\",\"norm_scaling_factor\":NaN"));
              return new String[] {"run", f.conf(), "--dry-run"};
            },
            List.of("qdm.sae", "cfg.json", "norm_scaling_factor", "finite"),
            "out"));
    cases.add(
        c(
            "config-json-nan",
            f -> {
              Path p = f.model().resolve("config.json");
              Files.writeString(
                  p,
                  Files.readString(p)
                      .replace("\"layer_norm_eps\": 1e-05", "\"layer_norm_eps\": NaN"));
              return new String[] {
                "forward",
                "--model",
                f.model().toString(),
                "--input-ids",
                f.ids("{\"input_ids\": [[1, 2]]}"),
                "--out",
                f.out()
              };
            },
            List.of("config.json", "layer_norm_eps", "finite number"),
            "forward.safetensors"));

    // ---- a checkpoint that is not the model config.json describes
    cases.add(
        c(
            "checkpoint-more-layers",
            f -> {
              f.editConfig(c -> c.addProperty("num_hidden_layers", 2));
              return new String[] {
                "forward",
                "--model",
                f.model().toString(),
                "--input-ids",
                f.ids("{\"input_ids\": [[1, 2]]}"),
                "--out",
                f.out()
              };
            },
            List.of(
                "model.safetensors",
                "gpt_neox.layers.2.attention.dense.weight",
                "num_hidden_layers = 2",
                "tensors of layer 2"),
            "forward.safetensors"));
    cases.add(
        c(
            "checkpoint-more-layers-run",
            f -> {
              f.editConfig(c -> c.addProperty("num_hidden_layers", 2));
              return new String[] {"run", f.conf(), "--dry-run"};
            },
            List.of("qdm.model", "gpt_neox.layers.2.", "num_hidden_layers = 2"),
            "out"));
    cases.add(
        c(
            "checkpoint-unknown-tensor",
            f -> {
              Checkpoints.rewrite(
                  f.weights(),
                  t ->
                      t.put(
                          "transformer.h.0.attn.c_attn.weight",
                          new HostTensor(new long[] {2, 2}, new float[4])));
              return new String[] {"run", f.conf(), "--dry-run"};
            },
            List.of(
                "model.safetensors",
                "'transformer.h.0.attn.c_attn.weight'",
                "does not account for"),
            "out"));
    cases.add(
        c(
            "checkpoint-buffer-of-missing-layer",
            f -> {
              Checkpoints.rewrite(
                  f.weights(),
                  t ->
                      t.put(
                          "gpt_neox.layers.3.attention.masked_bias",
                          new HostTensor(new long[] {}, new float[1])));
              return new String[] {"run", f.conf(), "--dry-run"};
            },
            List.of("gpt_neox.layers.3.attention.masked_bias", "tensors of layer 3"),
            "out"));
    cases.add(
        c(
            "checkpoint-problem-only",
            f -> {
              Checkpoints.rewrite(f.weights(), t -> t.remove(W));
              return new String[] {"run", f.conf(), "--dry-run", "--set", "corpus.bos=true"};
            },
            List.of("missing tensor '" + W + "'"),
            List.of("bos_token_id"),
            "out"));
    // ---- compressed checkpoints (GPTQ, AWQ, GGUF ...) as forward inputs and conditions
    cases.add(
        c(
            "quant-unknown-method",
            f -> {
              Path q =
                  qdm.io.quant.QuantWriters.gptq(
                      qdm.io.quant.QuantWriters.read(f.model()),
                      f.dir().resolve("hqq"),
                      4,
                      32,
                      false,
                      false,
                      1);
              editJson(
                  q.resolve("config.json"),
                  j -> j.getAsJsonObject("quantization_config").addProperty("quant_method", "hqq"));
              return new String[] {
                "forward",
                "--model",
                q.toString(),
                "--input-ids",
                f.ids("{\"input_ids\": [[1, 2, 3]]}"),
                "--out",
                f.out()
              };
            },
            List.of("config.json", "quant_method 'hqq'", "gptq, awq, compressed-tensors"),
            "forward.safetensors"));
    cases.add(
        c(
            "gptq-act-order-without-g-idx",
            f -> {
              Path q =
                  qdm.io.quant.QuantWriters.gptq(
                      qdm.io.quant.QuantWriters.read(f.model()),
                      f.dir().resolve("act"),
                      4,
                      32,
                      true,
                      false,
                      1);
              Path st = q.resolve("model.safetensors");
              var raw = new qdm.testing.RawSafetensors();
              try (var file = qdm.io.SafetensorsFile.open(st)) {
                for (String n : file.names()) {
                  if (!n.equals("gpt_neox.layers.0.mlp.dense_h_to_4h.g_idx")) {
                    var i = file.info(n);
                    byte[] bytes = new byte[(int) i.byteLength()];
                    file.map(i, 0, bytes.length).get(bytes);
                    raw.add(n, i.dtype().name(), i.shape(), bytes);
                  }
                }
              }
              raw.write(st);
              return new String[] {
                "forward",
                "--model",
                q.toString(),
                "--input-ids",
                f.ids("{\"input_ids\": [[1, 2, 3]]}"),
                "--out",
                f.out()
              };
            },
            List.of(
                "model.safetensors", "gpt_neox.layers.0.mlp.dense_h_to_4h", "desc_act", "g_idx"),
            "forward.safetensors"));
    cases.add(
        c(
            "gptq-nan-scale",
            f -> {
              Path q =
                  qdm.io.quant.QuantWriters.gptq(
                      qdm.io.quant.QuantWriters.read(f.model()),
                      f.dir().resolve("nan"),
                      4,
                      32,
                      false,
                      false,
                      1);
              setHalf(
                  q.resolve("model.safetensors"),
                  "gpt_neox.layers.1.mlp.dense_4h_to_h.scales",
                  3,
                  (short) 0x7E00);
              return new String[] {
                "forward",
                "--model",
                q.toString(),
                "--input-ids",
                f.ids("{\"input_ids\": [[1, 2, 3]]}"),
                "--out",
                f.out()
              };
            },
            List.of("model.safetensors", "gpt_neox.layers.1.mlp.dense_4h_to_h.weight", "NaN"),
            "forward.safetensors"));
    cases.add(
        c(
            "gguf-iquant",
            f -> {
              Path iq = Path.of("src/test/resources/gguf/iquant");
              return new String[] {
                "forward",
                "--model",
                iq.toString(),
                "--input-ids",
                f.ids("{\"input_ids\": [[1, 2, 3]]}"),
                "--out",
                f.out()
              };
            },
            List.of("model.gguf", "blk.0.attn_k.weight", "IQ4_NL", "llama-quantize"),
            "forward.safetensors"));
    cases.add(
        c(
            "gguf-truncated-condition",
            f -> {
              byte[] b = Files.readAllBytes(Path.of("src/test/resources/gguf/neox/model.gguf"));
              Path cut = f.dir().resolve("cut.gguf");
              Files.write(cut, Arrays.copyOf(b, b.length - 1000));
              return new String[] {
                "run",
                f.conf(
                    "conditions = [ { name = fp, method = none },",
                    "{ name = q5, method = checkpoint, path = \"" + cut + "\" } ]"),
                "--dry-run"
              };
            },
            List.of("qdm.conditions.q5", "cut.gguf", "truncated"),
            "out"));
    cases.add(
        c(
            "checkpoint-of-another-model",
            f -> {
              Path awq =
                  qdm.io.quant.QuantWriters.awq(
                      qdm.io.quant.QuantWriters.read(Path.of("src/test/resources/reference/llama")),
                      f.dir().resolve("llama-awq"),
                      32);
              return new String[] {
                "run",
                f.conf(
                    "conditions = [ { name = fp, method = none },",
                    "{ name = awq, method = checkpoint, path = \"" + awq + "\" } ]"),
                "--dry-run"
              };
            },
            List.of("qdm.conditions.awq", "config.json", "model_type 'llama'", "gpt_neox"),
            "out"));
    cases.add(
        c(
            "checkpoint-gguf-of-another-model",
            f -> {
              Path gguf = f.dir().resolve("qwen2.gguf"); // alone: no config.json beside it
              Files.copy(Path.of("src/test/resources/gguf/qwen2/model.gguf"), gguf);
              return new String[] {
                "run",
                f.conf(
                    "conditions = [ { name = fp, method = none },",
                    "{ name = q, method = checkpoint, path = \"" + gguf + "\" } ]"),
                "--dry-run"
              };
            },
            List.of("qdm.conditions.q", "qwen2.gguf", "architecture 'qwen2'"),
            "out"));
    cases.add(
        c(
            "condition-logits-overflow",
            f -> {
              // finite weights (the preflight passes them) whose logits overflow to infinity
              Path big = f.dir().resolve("big.safetensors");
              qdm.io.SafetensorsWriter w = new qdm.io.SafetensorsWriter();
              try (var st = qdm.io.SafetensorsFile.open(f.weights())) {
                String head =
                    st.names().contains("embed_out.weight")
                        ? "embed_out.weight"
                        : "gpt_neox.embed_in.weight";
                for (String name : st.names()) {
                  float[] v = st.readFloats(name);
                  if (name.equals(head)) {
                    int d = (int) st.info(name).shape()[1];
                    for (int i = 0; i < d; i++) {
                      v[3 * d + i] = 3e38f;
                    }
                  }
                  w.add(name, new qdm.io.HostTensor(st.info(name).shape(), v));
                }
              }
              w.write(big);
              return new String[] {
                "run",
                f.conf(
                    "conditions = [ { name = fp, method = none },",
                    "{ name = big, method = checkpoint, path = \"" + big + "\" } ]")
              };
            },
            List.of("condition 'big'", "NaN or infinity", "window", "position"),
            "out/bad/codes",
            "out/bad/feature_sums",
            "out/bad/conditions",
            "out/bad/report"));
    cases.add(
        c(
            "checkpoint-is-the-reference",
            f ->
                new String[] {
                  "run",
                  f.conf(
                      "conditions = [ { name = fp, method = none },",
                      "{ name = same, method = checkpoint, path = \"" + f.model() + "\" } ]"),
                  "--dry-run"
                },
            List.of("qdm.conditions.same", "bit for bit", "the reference model"),
            "out"));
    cases.add(
        c(
            "safetensors-header-not-json",
            f -> {
              byte[] b = Files.readAllBytes(f.weights());
              String head = new String(b, 8, 4096, StandardCharsets.ISO_8859_1);
              int at = head.indexOf("\"dtype\"");
              b[8 + at] = ' ';
              b[8 + at + 6] = ' '; // "dtype" -> an unquoted name: not JSON
              Files.write(f.weights(), b);
              return new String[] {"run", f.conf(), "--dry-run"};
            },
            List.of("model.safetensors", "header is not valid JSON", "line 1 column"),
            List.of("setStrictness", "LENIENT", "Troubleshooting"),
            "out"));
    cases.add(
        c(
            "tokenizer-corrupt",
            f -> {
              Path t = f.model().resolve("tokenizer.json");
              Files.writeString(t, Files.readString(t).substring(0, 300));
              return new String[] {"run", f.conf(), "--dry-run"};
            },
            List.of("tokenizer.json", "cannot load tokenizer"),
            "out"));

    cases.add(
        c(
            "tokenizer-of-another-model",
            f -> {
              Files.writeString(
                  f.model().resolve("tokenizer.json"), TinyAudit.wordLevelTokenizer(1000));
              Files.writeString(f.audit().corpus().resolve("a.txt"), "w1 w2 w700 w3 ".repeat(200));
              return new String[] {"run", f.conf()};
            },
            List.of("tokenizer.json", "token id 700", "vocabulary [0, 512)"),
            "out"));

    // ---- corpus content
    cases.add(
        c(
            "corpus-binary",
            f -> {
              Path bin = f.audit().corpus().resolve("a.txt");
              byte[] text = Files.readAllBytes(bin);
              byte[] b = Arrays.copyOf(text, text.length + 8);
              b[text.length + 3] = 0;
              Files.write(bin, b);
              return new String[] {"run", f.conf()};
            },
            List.of("a.txt", "byte offset", "NUL byte", "not a text file"),
            "out"));
    cases.add(
        c(
            "corpus-invalid-utf8",
            f -> {
              Path p = f.audit().corpus().resolve("a.txt");
              byte[] text = Files.readAllBytes(p);
              text[100] = (byte) 0xE9; // Latin-1 'é'
              Files.write(p, text);
              return new String[] {"run", f.conf()};
            },
            List.of("a.txt", "byte offset 100", "not valid UTF-8", "0xe9"),
            "out"));
    cases.add(
        c(
            "jsonl-malformed-line",
            f -> {
              jsonl(f, 6, "{\"text\": \"unterminated");
              return new String[] {"run", f.conf()};
            },
            List.of("corpus.jsonl:6", "not valid JSON"),
            "out"));
    cases.add(
        c(
            "jsonl-missing-field",
            f -> {
              jsonl(f, 4, "{\"content\": \"w1 w2\"}");
              return new String[] {"run", f.conf()};
            },
            List.of("corpus.jsonl:4", "no field \"text\"", "qdm.corpus.text-column"),
            "out"));
    cases.add(
        c(
            "jsonl-null-field",
            f -> {
              jsonl(f, 3, "{\"text\": null}");
              return new String[] {"run", f.conf()};
            },
            List.of("corpus.jsonl:3", "field \"text\" is null"),
            "out"));
    cases.add(
        c(
            "jsonl-not-an-object",
            f -> {
              jsonl(f, 2, "[\"w1 w2\"]");
              return new String[] {"run", f.conf()};
            },
            List.of("corpus.jsonl:2", "expected a JSON object"),
            "out"));

    cases.add(
        c(
            "parquet-null-text",
            f -> {
              Path dir = emptyCorpus(f);
              String[] words = TinyAudit.randomText(1000, 5).split("\n");
              List<org.apache.spark.sql.Row> rows = new ArrayList<>();
              for (int i = 0; i < 6; i++) {
                rows.add(org.apache.spark.sql.RowFactory.create(i == 4 ? null : words[i]));
              }
              var schema =
                  new org.apache.spark.sql.types.StructType()
                      .add("text", org.apache.spark.sql.types.DataTypes.StringType, true);
              Path table = dir.resolve("tmp-table");
              LocalSpark.get()
                  .createDataFrame(rows, schema)
                  .coalesce(1)
                  .write()
                  .parquet(table.toString());
              try (Stream<Path> parts = Files.list(table)) {
                Path part =
                    parts
                        .filter(p -> p.getFileName().toString().endsWith(".parquet"))
                        .findFirst()
                        .orElseThrow();
                Files.move(part, dir.resolve("corpus.parquet"));
              }
              qdm.io.TempDirs.deleteQuietly(table);
              return new String[] {"run", f.conf()};
            },
            List.of("corpus.parquet", "row 4 (0-based)", "null 'text'"),
            "out"));

    // ---- token ids and lengths
    cases.add(
        c(
            "ids-fraction",
            f ->
                new String[] {
                  "forward",
                  "--model",
                  f.model().toString(),
                  "--input-ids",
                  f.ids("{\"input_ids\": [[1, 2, 3], [4, 2.5, 6]]}"),
                  "--out",
                  f.out()
                },
            List.of("ids.json", "input_ids[1][1]", "row 1, column 1", "2.5"),
            "forward.safetensors"));
    cases.add(
        c(
            "ids-invalid-json",
            f ->
                new String[] {
                  "forward",
                  "--model",
                  f.model().toString(),
                  "--input-ids",
                  f.ids("{\"input_ids\": [[1, 2,}"),
                  "--out",
                  f.out()
                },
            List.of("ids.json", "invalid JSON", "line 1 column"),
            List.of("setStrictness", "Troubleshooting"),
            "forward.safetensors"));
    cases.add(
        c(
            "ids-string",
            f ->
                new String[] {
                  "forward",
                  "--model",
                  f.model().toString(),
                  "--input-ids",
                  f.ids("{\"input_ids\": [[1, \"7\"]]}"),
                  "--out",
                  f.out()
                },
            List.of("input_ids[0][1]", "\"7\"", "expected an integer token id"),
            "forward.safetensors"));
    cases.add(
        c(
            "ids-longer-than-context",
            f -> {
              StringBuilder row = new StringBuilder("1");
              for (int i = 1; i < 129; i++) {
                row.append(", ").append(1 + i % 500);
              }
              return new String[] {
                "forward",
                "--model",
                f.model().toString(),
                "--input-ids",
                f.ids("{\"input_ids\": [[" + row + "]]}"),
                "--out",
                f.out()
              };
            },
            List.of("129 tokens", "context of 128", "max_position_embeddings"),
            "forward.safetensors"));
    cases.add(
        c(
            "window-longer-than-context",
            f ->
                new String[] {
                  "run",
                  f.conf(),
                  "--set",
                  "windows.chunk-length=256",
                  "--set",
                  "corpus.max-tokens=4096",
                  "--dry-run"
                },
            List.of("qdm.windows.chunk-length", "256", "context of 128"),
            "out"));

    // ---- output locations
    // ---- several SAEs and the stability checks --------------------------------------
    cases.add(
        c(
            "saes-duplicate-name",
            f ->
                new String[] {
                  "run",
                  f.conf(
                      "sae.path = null",
                      "saes = [ { name = std, path = \""
                          + f.audit().sae()
                          + "\" },"
                          + " { name = std, path = \""
                          + f.audit().sae()
                          + "\" } ]"),
                  "--dry-run"
                },
            List.of("qdm.saes[1].name", "duplicate SAE name 'std'"),
            "out"));
    cases.add(
        c(
            "saes-same-hook-unnamed",
            f ->
                new String[] {
                  "run",
                  f.conf(
                      "sae.path = null",
                      "saes = [ { path = \""
                          + f.audit().sae()
                          + "\" },"
                          + " { path = \""
                          + f.audit().sae()
                          + "\" } ]"),
                  "--dry-run"
                },
            List.of("qdm.saes[1]", "'blocks.1.hook_resid_post' is also qdm.saes[0]'s", "name ="),
            "out"));
    cases.add(
        c(
            "saes-bad-name",
            f ->
                new String[] {
                  "run",
                  f.conf(
                      "sae.path = null",
                      "saes = [ { name = \"a/b\", path = \"" + f.audit().sae() + "\" } ]"),
                  "--dry-run"
                },
            List.of("qdm.saes[0].name", "directory", "'a/b'"),
            "out"));
    cases.add(
        c(
            "saes-empty",
            f -> new String[] {"run", f.conf("sae.path = null", "saes = []"), "--dry-run"},
            List.of("qdm.saes", "is empty"),
            "out"));
    cases.add(
        c(
            "sae-and-saes",
            f ->
                new String[] {
                  "run", f.conf("saes = [ { path = \"" + f.audit().sae() + "\" } ]"), "--dry-run"
                },
            List.of("qdm.saes", "qdm.sae.path are both set"),
            "out"));
    cases.add(
        c(
            "saes-misfit",
            f ->
                new String[] {
                  "run",
                  f.conf(
                      "sae.path = null",
                      "saes = [ { name = ok, path = \""
                          + f.audit().sae()
                          + "\" },"
                          + " { name = far, path = \""
                          + f.audit().sae()
                          + "\","
                          + " hook = \"blocks.9.hook_resid_post\" } ]"),
                  "--dry-run"
                },
            List.of("qdm.saes[1] (far) at", "blocks.9"),
            "out"));
    cases.add(
        c(
            "stability-budget-range",
            f -> new String[] {"run", f.conf("analysis.stability.budgets = [0, 0.5]"), "--dry-run"},
            List.of("qdm.analysis.stability.budgets", "(0, 1]", "got 0.0"),
            "out"));
    cases.add(
        c(
            "stability-subset-empty",
            f -> new String[] {"run", f.conf("analysis.stability.subsets.fraction = 0.01")},
            List.of("qdm.analysis.stability.subsets.fraction", "16 chunk windows leaves no window"),
            "out/bad/windows",
            "out/bad/codes"));
    cases.add(
        c(
            "stability-no-samples",
            f ->
                new String[] {
                  "run", f.conf("analysis.stability.bootstrap.samples = 0"), "--dry-run"
                },
            List.of("qdm.analysis.stability.bootstrap.samples"),
            "out"));
    cases.add(
        c(
            "output-is-a-file",
            f -> {
              Files.writeString(f.dir().resolve("out-file"), "not a directory");
              return new String[] {
                "run", f.conf("output = \"" + f.dir().resolve("out-file") + "\""), "--dry-run"
              };
            },
            List.of("qdm.output", "out-file", "is a file"),
            "out"));
    cases.add(
        c(
            "output-is-a-file-run",
            f -> {
              Files.writeString(f.dir().resolve("out-file"), "not a directory");
              return new String[] {
                "run", f.conf("output = \"" + f.dir().resolve("out-file") + "\"")
              };
            },
            List.of("qdm.output", "is a file"),
            "out"));
    cases.add(
        c(
            "forward-out-is-a-directory",
            f -> {
              Files.createDirectories(f.dir().resolve("outdir"));
              return new String[] {
                "forward",
                "--model",
                f.model().toString(),
                "--input-ids",
                f.ids("{\"input_ids\": [[1, 2]]}"),
                "--out",
                f.dir().resolve("outdir").toString()
              };
            },
            List.of("--out", "outdir", "is a directory"),
            "outdir/forward.safetensors"));

    // ---- configuration values: one message per key
    cases.add(
        c(
            "spark-master-invalid",
            f -> new String[] {"run", f.conf(), "--set", "spark.master=banana"},
            List.of("qdm.spark.master", "banana", "local[N]"),
            "out"));
    cases.add(
        c(
            "conditions-empty",
            f -> new String[] {"run", f.conf(), "--set", "conditions=[]", "--dry-run"},
            List.of("qdm.conditions", "is empty"),
            List.of("NoSuchElement"),
            "out"));
    cases.add(
        c(
            "bits-not-a-number",
            f ->
                new String[] {
                  "run",
                  f.conf(),
                  "--set",
                  "conditions=[{name=fp, method=none}, {name=q, method=rtn, bits=\"four\"}]",
                  "--dry-run"
                },
            List.of("qdm.conditions[1].bits", "must be an integer"),
            List.of("2..8"),
            "out"));
    cases.add(
        c(
            "max-tokens-unparsable",
            f -> new String[] {"run", f.conf(), "--set", "corpus.max-tokens=[1,", "--dry-run"},
            List.of("qdm.corpus.max-tokens", "positive integer"),
            List.of("got 0"),
            "out"));

    cases.add(
        c("verify-no-run", f -> new String[] {"verify", f.conf()}, List.of("no run here"), "out"));

    // ---- tables
    cases.add(
        c(
            "inspect-truncated-parquet",
            f -> {
              Path table = Files.createDirectories(f.dir().resolve("conditions"));
              Path part = table.resolve("part-00000.parquet");
              Files.write(part, "PAR1 and then nothing".getBytes(StandardCharsets.UTF_8));
              return new String[] {"inspect", table.toString()};
            },
            List.of("part-00000.parquet", "not a readable Parquet file")));
    return cases;
  }

  /** Deletes the tiny audit's corpus files; returns the (now empty) corpus directory. */
  private static Path emptyCorpus(Fixture f) throws IOException {
    Path dir = f.audit().corpus();
    try (Stream<Path> old = Files.list(dir)) {
      for (Path p : old.toList()) {
        Files.delete(p);
      }
    }
    return dir;
  }

  /** Replaces the tiny corpus with 8 JSON lines of text, line {@code bad} (1-based) replaced. */
  private static void jsonl(Fixture f, int bad, String badLine) throws IOException {
    Path dir = emptyCorpus(f);
    StringBuilder s = new StringBuilder();
    String[] words = TinyAudit.randomText(2000, 3).split("\n");
    for (int i = 1; i <= 8; i++) {
      s.append(i == bad ? badLine : "{\"text\": \"" + words[i] + "\", \"id\": " + i + "}")
          .append('\n');
    }
    Files.writeString(dir.resolve("corpus.jsonl"), s.toString());
  }

  @TestFactory
  Stream<DynamicTest> everyBadInputGivesOneMessageExit2AndNoOutput() {
    return cases().stream().map(k -> DynamicTest.dynamicTest(k.id(), () -> check(k)));
  }

  private static void check(Case k) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(k.id() + "-" + next++));
    Fixture f = new Fixture(dir, TinyAudit.create(dir, 2000));
    String[] args = k.setup().apply(f);
    Cli.Result r = Cli.run(args);
    String all = k.id() + ": qdm " + String.join(" ", args) + "\n" + r.all();
    assertEquals(2, r.exit(), all);
    List<String> messages = r.err().lines().filter(l -> l.startsWith("qdm: ")).toList();
    assertEquals(1, messages.size(), "one message: " + all);
    assertFalse(
        r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace: " + all);
    for (String e : k.expected()) {
      assertTrue(messages.get(0).contains(e), "'" + e + "' in the message: " + all);
    }
    for (String u : k.unexpected()) {
      assertFalse(r.err().contains(u), "no '" + u + "': " + all);
    }
    // the messages, for docs/bad-inputs.md (temp paths shortened)
    Files.writeString(
        Path.of("target/bad-inputs-messages.txt"),
        k.id() + "\t" + messages.get(0).replace(dir.toString(), "…") + "\n",
        StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.APPEND);
    for (String w : k.written()) {
      assertFalse(Files.exists(dir.resolve(w)), w + " must not be written: " + all);
    }
  }

  /**
   * The buffers real GPT-NeoX checkpoints carry (Pythia's causal mask, its fill value, RoPE
   * frequencies) are not an error, and the forward pass is the same with them as without.
   */
  @Test
  void knownBuffersAreAcceptedAndChangeNothing() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("buffers"));
    Fixture f = new Fixture(dir, TinyAudit.create(dir, 200));
    String ids = f.ids("{\"input_ids\": [[5, 6, 7, 8, 9]]}");
    Cli.Result plain =
        Cli.run(
            "forward",
            "--model",
            f.model().toString(),
            "--input-ids",
            ids,
            "--out",
            dir.resolve("plain.safetensors").toString());
    assertEquals(0, plain.exit(), plain.all());
    Checkpoints.rewrite(
        f.weights(),
        t -> {
          for (int i = 0; i < 3; i++) {
            String p = "gpt_neox.layers." + i + ".attention.";
            t.put(p + "bias", new HostTensor(new long[] {1, 1, 4, 4}, new float[16]));
            t.put(p + "masked_bias", new HostTensor(new long[] {}, new float[] {-1e9f}));
            t.put(p + "rotary_emb.inv_freq", new HostTensor(new long[] {2}, new float[] {1, 0.1f}));
          }
        });
    Cli.Result buffered =
        Cli.run(
            "forward",
            "--model",
            f.model().toString(),
            "--input-ids",
            ids,
            "--out",
            dir.resolve("buffered.safetensors").toString());
    assertEquals(0, buffered.exit(), buffered.all());
    var a = Checkpoints.read(dir.resolve("plain.safetensors"));
    var b = Checkpoints.read(dir.resolve("buffered.safetensors"));
    assertEquals(a.keySet(), b.keySet());
    a.forEach((k, v) -> assertTrue(Arrays.equals(v.data(), b.get(k).data()), k));
  }

  /** Every case is in the catalogue, and the catalogue names no case that does not exist. */
  @Test
  void theCatalogueListsEveryCase() throws IOException {
    String doc = Files.readString(CATALOGUE);
    Set<String> ids = new LinkedHashSet<>();
    cases().forEach(k -> ids.add(k.id()));
    for (String id : ids) {
      assertTrue(doc.contains("`" + id + "`"), id + " is not in " + CATALOGUE);
    }
    Matcher m = Pattern.compile("^\\| `([a-z0-9-]+)` \\|", Pattern.MULTILINE).matcher(doc);
    while (m.find()) {
      assertTrue(
          ids.contains(m.group(1)) || INTERRUPTION_CASES.contains(m.group(1)),
          CATALOGUE + " lists '" + m.group(1) + "', which no test checks");
    }
  }

  /** The catalogue's interruption cases, checked by qdm.spark.RunConsistencyTest. */
  static final Set<String> INTERRUPTION_CASES =
      Set.of(
          "rerun-changed-setting-interrupted",
          "rerun-bad-corpus",
          "rerun-fewer-conditions",
          "ctrl-c-during-encode",
          "killed-run-temp-files");
}
