package qdm.hub;

import java.nio.file.Path;

/**
 * What to tell a user whose configured file is missing, from the config's source hint: the hub
 * repository, revision and path, a command that puts the files exactly where the config looks for
 * them, and the {@code hf://} spelling that makes QDM download them itself.
 */
public final class HowToGet {
  private HowToGet() {}

  /**
   * Instructions for filling {@code local} (the missing path the config has under {@code key}) from
   * {@code source} (an {@code hf://} location, optionally followed by a note, or free text).
   *
   * @param modelRoot true for a model directory (only its {@code *.json} and {@code *.safetensors}
   *     files are needed)
   */
  public static String describe(String key, Path local, String source, boolean modelRoot) {
    String s = source.trim();
    int space = s.indexOf(' ');
    String first = space < 0 ? s : s.substring(0, space);
    String note = space < 0 ? "" : s.substring(space + 1).trim();
    if (note.startsWith("(") && note.endsWith(")")) {
      note = note.substring(1, note.length() - 1);
    }
    if (!HubUri.isHub(first)) {
      return "Source: " + s + ".";
    }
    HubUri u = HubUri.parse(first);
    StringBuilder b = new StringBuilder("It comes from the Hugging Face ");
    b.append(u.dataset() ? "dataset " : "repository ")
        .append(u.repo())
        .append(" at revision ")
        .append(u.revision());
    if (!u.path().isEmpty()) {
      b.append(", path ").append(u.path());
    }
    if (!note.isEmpty()) {
      b.append(" (").append(note).append(')');
    }
    b.append(". Get it with:\n      ");
    String typeFlag = u.dataset() ? " --repo-type dataset" : "";
    boolean file = u.path().matches(".*\\.(parquet|jsonl|json|txt|npz|safetensors|gz)");
    if (file) {
      b.append("curl -L --create-dirs -o ")
          .append(local)
          .append(' ')
          .append(HubSettings.DEFAULT_ENDPOINT)
          .append('/')
          .append(u.dataset() ? "datasets/" : "")
          .append(u.repo())
          .append("/resolve/")
          .append(u.revision())
          .append('/')
          .append(u.path());
    } else if (u.path().isEmpty()) {
      b.append("huggingface-cli download ")
          .append(u.repo())
          .append(typeFlag)
          .append(" --revision ")
          .append(u.revision())
          .append(modelRoot ? " --include '*.json' '*.safetensors'" : "")
          .append(" --local-dir ")
          .append(local);
    } else {
      Path suffix = Path.of(u.path());
      boolean endsWith = local.endsWith(suffix);
      Path into = endsWith ? root(local, suffix) : Path.of("DOWNLOAD_DIR");
      b.append("huggingface-cli download ")
          .append(u.repo())
          .append(typeFlag)
          .append(" --revision ")
          .append(u.revision())
          .append(" --include '")
          .append(u.path())
          .append("/*' --local-dir ")
          .append(into);
      if (!endsWith) {
        b.append("\n      and set ").append(key).append(" = DOWNLOAD_DIR/").append(u.path());
      }
    }
    boolean list = key.endsWith(".paths");
    b.append("\n    or let qdm download it: ")
        .append(key)
        .append(list ? " = [\"" : " = \"")
        .append(u)
        .append(list ? "\"]" : "\"");
    return b.toString();
  }

  /** {@code local} without its trailing {@code suffix} components. */
  private static Path root(Path local, Path suffix) {
    Path p = local;
    for (int i = 0; i < suffix.getNameCount(); i++) {
      p = p.getParent();
    }
    return p == null ? Path.of(".") : p;
  }
}
