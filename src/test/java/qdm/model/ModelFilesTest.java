package qdm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model location resolves once: directories, {@code file:} URIs, a lone GGUF file. */
class ModelFilesTest {
  @TempDir Path tmp;

  @Test
  void aDirectoryAFileUriAndAWeightsOverrideResolveToAbsolutePaths() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("m"));
    Path st = Files.writeString(dir.resolve("model.safetensors"), "x");
    ModelFiles plain = ModelFiles.resolve(dir.toString(), Optional.empty());
    assertEquals(dir, plain.dir());
    assertEquals(st, plain.weights());
    assertEquals(dir.resolve("tokenizer.json"), plain.tokenizer());
    assertEquals(plain, ModelFiles.resolve(dir.toUri().toString(), Optional.empty()));
    Path other = Files.writeString(tmp.resolve("other.safetensors"), "y");
    assertEquals(
        other, ModelFiles.resolve(dir.toString(), Optional.of(other.toString())).weights());
  }

  @Test
  void aGgufFileStandsForItsDirectoryWithThatFileAsTheWeights() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("g"));
    Path gguf = Files.writeString(dir.resolve("model-Q4_K_M.gguf"), "GGUF");
    ModelFiles f = ModelFiles.resolve(gguf.toString(), Optional.empty());
    assertEquals(dir, f.dir());
    assertEquals(gguf, f.weights());
    assertEquals(dir.resolve("config.json"), f.config());
  }
}
