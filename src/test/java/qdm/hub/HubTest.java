package qdm.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.QdmException;
import qdm.testing.FakeHub;

/**
 * Downloads from a hub-like server on 127.0.0.1 ({@link FakeHub}): the oracle is the bytes the
 * server holds and the requests it saw (none after the first download; a range request after a
 * broken transfer; a bearer token only where one is set).
 */
class HubTest {
  static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
  @TempDir Path tmp;
  FakeHub server;
  List<String> log = new ArrayList<>();
  Map<String, byte[]> model = new LinkedHashMap<>();
  Map<String, byte[]> saes = new LinkedHashMap<>();

  @BeforeEach
  void start() {
    model.put("config.json", "{\"model_type\":\"gpt_neox\"}".getBytes(StandardCharsets.UTF_8));
    model.put("tokenizer.json", "{\"version\":\"1.0\"}".getBytes(StandardCharsets.UTF_8));
    model.put("model.safetensors", random(300_000, 1));
    model.put("pytorch_model.bin", random(1000, 2));
    model.put("onnx/model.onnx", random(1000, 3));
    saes.put("README.md", "SAEs".getBytes(StandardCharsets.UTF_8));
    saes.put("layer_1/width_16k/average_l0_9/params.npz", random(5000, 4));
    saes.put("layer_1/width_16k/average_l0_50/params.npz", random(5000, 5));
    saes.put("4-res-sm/cfg.json", "{\"d_in\":64}".getBytes(StandardCharsets.UTF_8));
    saes.put("4-res-sm/sae_weights.safetensors", random(8000, 6));
    server =
        new FakeHub()
            .repo("org/tiny", COMMIT, model, Set.of("model.safetensors", "pytorch_model.bin"))
            .repo(
                "org/saes",
                COMMIT.replace('0', 'f'),
                saes,
                Set.of(
                    "layer_1/width_16k/average_l0_9/params.npz",
                    "layer_1/width_16k/average_l0_50/params.npz",
                    "4-res-sm/sae_weights.safetensors"))
            .repo(
                "datasets/org/text",
                COMMIT.replace('1', 'e'),
                Map.of("wikitext-2-raw-v1/test-00000-of-00001.parquet", random(2000, 7)),
                Set.of("wikitext-2-raw-v1/test-00000-of-00001.parquet"));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  HubSettings settings(boolean offline, String token) {
    return new HubSettings(
        tmp.resolve("cache"), URI.create(server.endpoint()), Optional.ofNullable(token), offline);
  }

  Hub hub() {
    return new Hub(settings(false, null), log::add);
  }

  static List<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile)
          .map(p -> dir.relativize(p).toString())
          .sorted()
          .toList();
    }
  }

  /**
   * A checkpoint condition's hf:// path: a single .gguf of a repository of many takes that file
   * only; a checkpoint directory takes the model files (not the other formats).
   */
  @Test
  void checkpointConditionsDownloadTheirFileOrTheirModelFiles() throws IOException {
    server.repo(
        "org/ggufs",
        COMMIT.replace('0', 'a'),
        Map.of(
            "model-Q4_K_M.gguf",
            random(3000, 8),
            "model-Q8_0.gguf",
            random(3000, 9),
            "README.md",
            "x".getBytes(StandardCharsets.UTF_8)),
        Set.of("model-Q4_K_M.gguf", "model-Q8_0.gguf"));
    HubPaths paths = new HubPaths(hub(), true);
    Path gguf =
        Path.of(paths.map("qdm.conditions.q4.path", "hf://org/ggufs@main/model-Q4_K_M.gguf"));
    assertEquals("model-Q4_K_M.gguf", gguf.getFileName().toString());
    assertTrue(Files.isRegularFile(gguf));
    assertTrue(!Files.exists(gguf.resolveSibling("model-Q8_0.gguf")), "only the file asked for");
    Path dir = Path.of(paths.map("qdm.conditions.gptq.path", "hf://org/tiny@main"));
    assertEquals(List.of("config.json", "model.safetensors", "tokenizer.json"), files(dir));
  }

  @Test
  void aModelIsDownloadedOnceThenUsedWithNoRequest() throws IOException {
    Path dir =
        hub().fetch(HubUri.parse("hf://org/tiny@main"), Hub.Selection.MODEL, "qdm.model.path");
    assertEquals(
        List.of("config.json", "model.safetensors", "tokenizer.json"),
        files(dir),
        "a model directory gets only the files QDM reads");
    for (String f : files(dir)) {
      assertArrayEquals(model.get(f), Files.readAllBytes(dir.resolve(f)), f);
    }
    assertTrue(dir.endsWith(Path.of("models--org--tiny", "snapshots", COMMIT)), dir.toString());
    assertTrue(
        log.stream()
            .anyMatch(
                l ->
                    l.contains("downloading 3 file(s)")
                        && l.contains("hf://org/tiny@main")
                        && l.contains("qdm.model.path")),
        log.toString());
    int requests = server.requests().size();

    Path again = hub().fetch(HubUri.parse("hf://org/tiny@main"), Hub.Selection.MODEL, "x");
    Path offline =
        new Hub(settings(true, null), log::add)
            .fetch(HubUri.parse("hf://org/tiny"), Hub.Selection.MODEL, "x");
    assertEquals(dir, again);
    assertEquals(dir, offline);
    assertEquals(requests, server.requests().size(), "no request once cached");
    assertTrue(log.get(log.size() - 1).contains("using the cached copy"));
  }

  @Test
  void aFolderOrAFileOfARepositoryIsFetchedAlone() throws IOException {
    Path sae =
        hub()
            .fetch(
                HubUri.parse("hf://org/saes@main/layer_1/width_16k/average_l0_50"),
                Hub.Selection.ALL,
                "qdm.sae.path");
    assertEquals(List.of("params.npz"), files(sae));
    assertTrue(sae.endsWith(Path.of("layer_1", "width_16k", "average_l0_50")));
    assertArrayEquals(
        saes.get("layer_1/width_16k/average_l0_50/params.npz"),
        Files.readAllBytes(sae.resolve("params.npz")));
    assertFalse(Files.exists(sae.resolveSibling("average_l0_9")), "other folders not fetched");

    Path lens = hub().fetch(HubUri.parse("hf://org/saes/4-res-sm"), Hub.Selection.ALL, "x");
    assertEquals(List.of("cfg.json", "sae_weights.safetensors"), files(lens));

    Path parquet =
        hub()
            .fetch(
                HubUri.parse(
                    "hf://datasets/org/text@main/wikitext-2-raw-v1/test-00000-of-00001.parquet"),
                Hub.Selection.ALL,
                "qdm.corpus.paths");
    assertTrue(Files.isRegularFile(parquet));
    assertTrue(
        server.requests().stream().anyMatch(r -> r.startsWith("GET /datasets/org/text/resolve/")),
        server.requests().toString());
  }

  @Test
  void aGatedRepositoryNeedsTheToken() {
    server.gate("org/tiny", "secret");
    String m =
        assertThrows(
                QdmException.class,
                () ->
                    hub()
                        .fetch(
                            HubUri.parse("hf://org/tiny"), Hub.Selection.MODEL, "qdm.model.path"))
            .getMessage();
    assertTrue(m.contains("401") && m.contains("HF_TOKEN") && m.contains("hf://org/tiny"), m);
    assertTrue(server.requests().stream().noneMatch(r -> r.endsWith("auth")));
    int before = server.requests().size();

    Path dir =
        new Hub(settings(false, "secret"), log::add)
            .fetch(HubUri.parse("hf://org/tiny"), Hub.Selection.MODEL, "qdm.model.path");
    assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
    assertTrue(
        server.requests().subList(before, server.requests().size()).stream()
            .allMatch(r -> r.endsWith("auth")),
        "the token goes to every hub request");
  }

  @Test
  void theTokenIsNotSentToTheStorageHostARedirectPointsTo() throws IOException {
    try (FakeHub storage = new FakeHub()) {
      storage.repo("org/tiny", COMMIT, model, Set.of("model.safetensors", "pytorch_model.bin"));
      server.gate("org/tiny", "secret").storage(storage.endpoint());
      Path dir =
          new Hub(settings(false, "secret"), log::add)
              .fetch(HubUri.parse("hf://org/tiny"), Hub.Selection.MODEL, "qdm.model.path");
      assertArrayEquals(
          model.get("model.safetensors"), Files.readAllBytes(dir.resolve("model.safetensors")));
      assertEquals(1, storage.requests().size(), storage.requests().toString());
      assertTrue(
          storage.requests().get(0).startsWith("GET /cdn/")
              && !storage.requests().get(0).endsWith("auth"),
          storage.requests().toString());
    }
  }

  @Test
  void aBrokenTransferResumesWithARangeRequest() throws IOException {
    server.breakOnce("model.safetensors", 100_000);
    Path dir = hub().fetch(HubUri.parse("hf://org/tiny"), Hub.Selection.MODEL, "x");
    assertArrayEquals(
        model.get("model.safetensors"), Files.readAllBytes(dir.resolve("model.safetensors")));
    List<String> ranged =
        server.requests().stream()
            .filter(r -> r.contains("/resolve/") && r.contains("bytes="))
            .toList();
    assertEquals(1, ranged.size(), server.requests().toString());
    long from = Long.parseLong(ranged.get(0).replaceAll(".*bytes=(\\d+)-.*", "$1"));
    assertTrue(from > 0 && from <= 100_000, ranged.toString());
    assertFalse(Files.exists(dir.resolve("model.safetensors.part")));
  }

  @Test
  void aPartFileLeftByAnEarlierRunIsContinued() throws IOException {
    Path snapshot = tmp.resolve("cache/models--org--tiny/snapshots/" + COMMIT);
    Files.createDirectories(snapshot);
    byte[] all = model.get("model.safetensors");
    Files.write(snapshot.resolve("model.safetensors.part"), java.util.Arrays.copyOf(all, 12_345));
    Path dir = hub().fetch(HubUri.parse("hf://org/tiny"), Hub.Selection.MODEL, "x");
    assertArrayEquals(all, Files.readAllBytes(dir.resolve("model.safetensors")));
    assertTrue(
        server.requests().stream().anyMatch(r -> r.endsWith("bytes=12345-")),
        server.requests().toString());
  }

  @Test
  void aChecksumMismatchFailsAndLeavesNoFile() throws IOException {
    for (String file : List.of("model.safetensors", "config.json")) { // LFS sha256, git blob id
      server.wrongChecksum(file);
      String m =
          assertThrows(
                  QdmException.class,
                  () -> hub().fetch(HubUri.parse("hf://org/tiny"), Hub.Selection.MODEL, "x"))
              .getMessage();
      assertTrue(m.contains("checksum mismatch") && m.contains(file), m);
      Path snapshot = tmp.resolve("cache/models--org--tiny/snapshots/" + COMMIT);
      assertFalse(Files.exists(snapshot.resolve(file)), file);
      assertFalse(Files.exists(snapshot.resolve(file + ".part")), file + ".part");
      assertTrue(hub().cached(HubUri.parse("hf://org/tiny"), Hub.Selection.MODEL).isEmpty());
      server.close();
      server = new FakeHub().repo("org/tiny", COMMIT, model, Set.of("model.safetensors"));
      try (Stream<Path> old = Files.walk(tmp.resolve("cache"))) {
        old.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void offlineWithoutACopyNamesWhatIsMissingAndAsksNothing() {
    String m =
        assertThrows(
                QdmException.class,
                () ->
                    new Hub(settings(true, null), log::add)
                        .fetch(HubUri.parse("hf://org/tiny@main"), Hub.Selection.MODEL, "x"))
            .getMessage();
    assertTrue(
        m.contains("hf://org/tiny@main")
            && m.contains("offline")
            && m.contains(tmp.resolve("cache").toString()),
        m);
    assertEquals(List.of(), server.requests());
  }

  @Test
  void aMissingPathListsWhatTheRepositoryHolds() {
    String m =
        assertThrows(
                QdmException.class,
                () ->
                    hub()
                        .fetch(HubUri.parse("hf://org/saes@main/layer_12"), Hub.Selection.ALL, "x"))
            .getMessage();
    assertTrue(
        m.contains("nothing at 'layer_12'") && m.contains("layer_1/") && m.contains("4-res-sm/"),
        m);
    String notFound =
        assertThrows(
                QdmException.class,
                () -> hub().fetch(HubUri.parse("hf://org/nope"), Hub.Selection.ALL, "x"))
            .getMessage();
    assertTrue(notFound.contains("404"), notFound);
  }

  @Test
  void aPinnedCommitIsUsedAsIs() throws IOException {
    Path dir = hub().fetch(HubUri.parse("hf://org/tiny@" + COMMIT), Hub.Selection.MODEL, "x");
    assertTrue(dir.endsWith(COMMIT));
    assertTrue(server.requests().stream().anyMatch(r -> r.contains("/resolve/" + COMMIT + "/")));
    int n = server.requests().size();
    assertEquals(
        Optional.of(dir),
        hub().cached(HubUri.parse("hf://org/tiny@" + COMMIT), Hub.Selection.MODEL));
    assertEquals(n, server.requests().size());
  }

  @Test
  void locationsParseAndBadOnesAreNamed() {
    HubUri u = HubUri.parse("hf://google/gemma-scope-2b-pt-res@main/layer_12/width_16k/x/");
    assertEquals(
        new HubUri(false, "google/gemma-scope-2b-pt-res", "main", "layer_12/width_16k/x"), u);
    assertEquals("hf://google/gemma-scope-2b-pt-res@main/layer_12/width_16k/x", u.toString());
    assertEquals(
        new HubUri(false, "EleutherAI/pythia-70m-deduped", "main", ""),
        HubUri.parse("hf://EleutherAI/pythia-70m-deduped"));
    HubUri d = HubUri.parse("hf://datasets/Salesforce/wikitext@v1/a/b.parquet");
    assertTrue(d.dataset());
    assertEquals("datasets--Salesforce--wikitext", d.cacheName());
    assertTrue(HubUri.parse("hf://a/b@" + COMMIT).pinned());
    for (String bad :
        List.of(
            "hf://onlyname",
            "hf://a/b@/x",
            "hf://a/b@main/x/../y",
            "hf://a/b@main//x",
            "hf://a b/c")) {
      String m = assertThrows(QdmException.class, () -> HubUri.parse(bad)).getMessage();
      assertTrue(m.contains("hf://"), bad + " -> " + m);
    }
  }

  @Test
  void settingsComeFromTheConfigThenTheEnvironment() {
    Map<String, String> env =
        Map.of(
            "QDM_HUB_CACHE",
            "/env/cache",
            "HF_ENDPOINT",
            "http://mirror:8080/",
            "HF_TOKEN",
            "t",
            "HF_HUB_OFFLINE",
            "1");
    HubSettings fromEnv = HubSettings.of(Optional.empty(), Optional.empty(), false, env);
    assertEquals(Path.of("/env/cache"), fromEnv.cache());
    assertEquals(URI.create("http://mirror:8080"), fromEnv.endpoint());
    assertEquals(Optional.of("t"), fromEnv.token());
    assertTrue(fromEnv.offline());
    HubSettings fromConfig =
        HubSettings.of(Optional.of("/conf/cache"), Optional.of("http://other"), false, env);
    assertEquals(Path.of("/conf/cache"), fromConfig.cache());
    assertEquals(URI.create("http://other"), fromConfig.endpoint());
    HubSettings none = HubSettings.of(Optional.empty(), Optional.empty(), false, Map.of());
    assertEquals(Path.of(System.getProperty("user.home"), ".cache", "qdm", "hub"), none.cache());
    assertEquals(URI.create("https://huggingface.co"), none.endpoint());
    assertFalse(none.offline());
    assertTrue(none.token().isEmpty());
  }
}
