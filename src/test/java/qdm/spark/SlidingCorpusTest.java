package qdm.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.config.AuditConfig;
import qdm.config.AuditConfigs;
import qdm.data.Window;
import qdm.testing.LocalSpark;
import qdm.testing.TinyAudit;
import qdm.tokenize.Tokenizer;

/**
 * {@code windows.sliding.corpus}: the sliding windows read their own corpus (the paper's Gemma
 * setup scores WikiText-2 test) while the chunk windows keep the main one. Oracle: the corpora use
 * disjoint word ranges of a word-level tokenizer, so every token's id says which corpus it came
 * from, and the expected id sequence is the words as written.
 */
class SlidingCorpusTest {
  @TempDir Path tmp;

  static String words(int from, int count) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < count; i++) {
      s.append(TinyAudit.word(from + i % 50)).append(' ');
    }
    return s.toString();
  }

  List<Window> windows(String extra) throws IOException {
    Files.writeString(tmp.resolve("tokenizer.json"), TinyAudit.wordLevelTokenizer(512));
    Files.writeString(tmp.resolve("train.txt"), words(1, 300)); // ids 1..50
    Files.writeString(tmp.resolve("test.txt"), words(300, 200)); // ids 300..349
    AuditConfig c =
        AuditConfigs.parse(
            """
        qdm {
          run-name = s, model.path = m, sae.path = s
          corpus { paths = ["%s"], max-tokens = 128 }
          windows { chunk-length = 32, sliding { length = 48, stride = 16, bos = false %s } }
        }
        """
                .formatted(tmp.resolve("train.txt"), extra),
            List.of(),
            "s.conf");
    try (Tokenizer t = Tokenizer.load(tmp.resolve("tokenizer.json"))) {
      return TokenizeStage.windows(LocalSpark.get(), c, t, -1);
    }
  }

  /** The token stream a kind of windows covers, rebuilt from each window's start offset. */
  static List<Integer> stream(List<Window> ws, String kind) {
    List<Integer> out = new ArrayList<>();
    for (Window w : ws) {
      if (w.kind().equals(kind)) {
        int[] t = w.tokens();
        for (int i = 0; i < t.length; i++) {
          long at = w.start() + i;
          if (at == out.size()) {
            out.add(t[i]);
          } else {
            assertEquals(out.get((int) at), t[i], "windows overlap consistently");
          }
        }
      }
    }
    return out;
  }

  @Test
  void slidingWindowsReadTheirOwnCorpus() throws IOException {
    List<Window> ws = windows(", corpus { paths = [\"" + tmp.resolve("test.txt") + "\"] }");
    List<Integer> chunk = stream(ws, Window.CHUNK);
    List<Integer> slide = stream(ws, Window.SLIDE);
    assertEquals(128, chunk.size());
    assertTrue(chunk.stream().allMatch(id -> id >= 1 && id <= 50), chunk.toString());
    assertEquals(128, slide.size(), "the sliding budget defaults to corpus.max-tokens");
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < slide.size(); i++) {
      expected.add(300 + i % 50);
    }
    assertEquals(expected, slide);
  }

  @Test
  void withoutItTheSlidingWindowsReadTheChunkStream() throws IOException {
    List<Window> ws = windows("");
    List<Integer> chunk = stream(ws, Window.CHUNK);
    List<Integer> slide = stream(ws, Window.SLIDE);
    assertEquals(chunk, slide.subList(0, chunk.size()));
  }
}
