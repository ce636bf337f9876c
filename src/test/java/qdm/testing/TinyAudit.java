package qdm.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Random;
import qdm.io.HostTensor;
import qdm.io.SafetensorsWriter;

/**
 * A complete, tiny audit made in a temp directory: the reference GPT-NeoX model (vocab 512, d 64, 3
 * layers) with a word-level tokenizer over its vocabulary, a random standard SAE at {@code
 * blocks.1.hook_resid_post}, and a corpus of random words.
 */
public final class TinyAudit {
  public static final int D_SAE = 96;
  public static final String HOOK = "blocks.1.hook_resid_post";

  private final Path dir;

  private TinyAudit(Path dir) {
    this.dir = dir;
  }

  public Path model() {
    return dir.resolve("model");
  }

  public Path sae() {
    return dir.resolve("sae");
  }

  public Path corpus() {
    return dir.resolve("corpus");
  }

  public Path output() {
    return dir.resolve("out");
  }

  /** Makes every file under {@code dir}. */
  public static TinyAudit create(Path dir, int corpusWords) {
    TinyAudit t = new TinyAudit(dir);
    try {
      Path model = Files.createDirectories(t.model());
      Path ref = Reference.model("neox");
      for (String f : new String[] {"config.json", "model.safetensors"}) {
        Files.copy(ref.resolve(f), model.resolve(f), StandardCopyOption.REPLACE_EXISTING);
      }
      Files.writeString(model.resolve("tokenizer.json"), wordLevelTokenizer(512));
      writeSae(Files.createDirectories(t.sae()), 64, D_SAE, 11);
      Files.createDirectories(t.corpus());
      Files.writeString(t.corpus().resolve("a.txt"), randomText(corpusWords / 2, 1));
      Files.writeString(t.corpus().resolve("b.txt"), randomText(corpusWords - corpusWords / 2, 2));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return t;
  }

  /** The word for token id {@code i} (ids 1..vocab-1; 0 is [UNK]). */
  public static String word(int i) {
    return "w" + i;
  }

  /** A WordLevel tokenizer.json: [UNK] = 0, w1..w{vocab-1}, whitespace pre-tokenizer. */
  public static String wordLevelTokenizer(int vocab) {
    JsonObject v = new JsonObject();
    v.addProperty("[UNK]", 0);
    for (int i = 1; i < vocab; i++) {
      v.addProperty(word(i), i);
    }
    JsonObject model = new JsonObject();
    model.addProperty("type", "WordLevel");
    model.add("vocab", v);
    model.addProperty("unk_token", "[UNK]");
    JsonObject unk = new JsonObject();
    unk.addProperty("id", 0);
    unk.addProperty("content", "[UNK]");
    unk.addProperty("single_word", false);
    unk.addProperty("lstrip", false);
    unk.addProperty("rstrip", false);
    unk.addProperty("normalized", false);
    unk.addProperty("special", true);
    JsonArray added = new JsonArray();
    added.add(unk);
    JsonObject pre = new JsonObject();
    pre.addProperty("type", "Whitespace");
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", null);
    root.add("padding", null);
    root.add("added_tokens", added);
    root.add("normalizer", null);
    root.add("pre_tokenizer", pre);
    root.add("post_processor", null);
    root.add("decoder", null);
    root.add("model", model);
    return root.toString();
  }

  /** Zipf-like random words with a little local structure (repeated bigrams). */
  public static String randomText(int words, long seed) {
    Random r = new Random(seed);
    StringBuilder s = new StringBuilder();
    int previous = 1;
    for (int i = 0; i < words; i++) {
      int id =
          r.nextInt(4) == 0
              ? (previous * 7 + 3) % 511 + 1
              : (int) Math.min(511, 1 + Math.floor(Math.exp(r.nextDouble() * Math.log(511))));
      s.append(word(id)).append(i % 17 == 16 ? "\n" : " ");
      previous = id;
    }
    return s.toString();
  }

  /** A random standard (ReLU) SAE in SAELens layout (flat cfg.json). */
  public static void writeSae(Path dir, int dIn, int dSae, long seed) throws IOException {
    Random r = new Random(seed);
    float[] wEnc = new float[dIn * dSae];
    float[] wDec = new float[dSae * dIn];
    float[] bEnc = new float[dSae];
    float[] bDec = new float[dIn];
    for (int i = 0; i < wEnc.length; i++) {
      wEnc[i] = (float) (r.nextGaussian() * 0.25);
    }
    for (int i = 0; i < wDec.length; i++) {
      wDec[i] = (float) (r.nextGaussian() * 0.1);
    }
    for (int i = 0; i < dSae; i++) {
      bEnc[i] = (float) (-1.0 - r.nextDouble() * 3.0); // a spread of firing rates
    }
    new SafetensorsWriter()
        .add("W_enc", new HostTensor(new long[] {dIn, dSae}, wEnc))
        .add("b_enc", new HostTensor(new long[] {dSae}, bEnc))
        .add("W_dec", new HostTensor(new long[] {dSae, dIn}, wDec))
        .add("b_dec", new HostTensor(new long[] {dIn}, bDec))
        .write(dir.resolve("sae_weights.safetensors"));
    JsonObject cfg = new JsonObject();
    cfg.addProperty("architecture", "standard");
    cfg.addProperty("d_in", dIn);
    cfg.addProperty("d_sae", dSae);
    cfg.addProperty("hook_name", HOOK);
    cfg.addProperty("apply_b_dec_to_input", true);
    cfg.addProperty("normalize_activations", "none");
    cfg.addProperty("activation_fn_str", "relu");
    Files.writeString(dir.resolve("cfg.json"), cfg.toString());
  }

  /** An audit config over these files. */
  public String config(String runName, int maxTokens) {
    return """
        qdm {
          run-name = "%s"
          output = "%s"
          model.path = "%s"
          sae.path = "%s"
          corpus { paths = ["%s"], max-tokens = %d }
          windows { chunk-length = 32, sliding { length = 48, stride = 16, max-tokens = 300 } }
          conditions = [
            { name = fp, method = none }
            { name = rtn8, method = rtn, bits = 8 }
            { name = rtn3, method = rtn, bits = 3 }
            { name = prune-matched, method = prune, match-perplexity-of = rtn3,
              search { steps = 3, max-tokens = 128 } }
          ]
          execution { batch-size = 4, windows-per-task = 8 }
          spark.master = "local[2]"
        }
        """
        .formatted(runName, output(), model(), sae(), corpus(), maxTokens);
  }
}
