package qdm.hub;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import qdm.QdmException;

/**
 * A location on the Hugging Face Hub, written {@code hf://[datasets/]owner/name[@revision][/path]}
 * (the spelling of {@code huggingface_hub}'s file system): a model or dataset repository, a
 * revision (branch, tag or commit; {@code main} when absent) and an optional path inside the
 * repository (a file or a folder; empty for the whole repository).
 *
 * <p>Examples: {@code hf://EleutherAI/pythia-70m-deduped@main}, {@code
 * hf://google/gemma-scope-2b-pt-res@main/layer_12/width_16k/average_l0_82}, {@code
 * hf://datasets/Salesforce/wikitext@main/wikitext-2-raw-v1/test-00000-of-00001.parquet}.
 *
 * @param dataset true for a dataset repository, false for a model repository
 * @param repo {@code owner/name}
 * @param revision branch, tag or 40-hex commit
 * @param path path inside the repository, without leading or trailing {@code /}; may be empty
 */
public record HubUri(boolean dataset, String repo, String revision, String path) {
  /** The scheme prefix. */
  public static final String SCHEME = "hf://";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
  private static final Pattern FORM = Pattern.compile("([^/@]+)/([^/@]+)(?:@([^/]+))?(?:/(.*))?");

  public HubUri {
    if (!NAME.matcher(repo.substring(0, Math.max(0, repo.indexOf('/')))).matches()
        || !NAME.matcher(repo.substring(repo.indexOf('/') + 1)).matches()) {
      throw new QdmException(
          SCHEME
              + repo
              + ": the repository must be owner/name (letters, "
              + "digits, '.', '_' or '-')");
    }
    if (!REVISION.matcher(revision).matches()) {
      throw new QdmException(
          SCHEME
              + repo
              + "@"
              + revision
              + ": the revision must be a branch, "
              + "tag or commit (letters, digits, '.', '_' or '-')");
    }
    for (String part : path.isEmpty() ? new String[0] : path.split("/", -1)) {
      if (part.isEmpty() || part.equals(".") || part.equals("..")) {
        throw new QdmException(
            SCHEME
                + repo
                + "@"
                + revision
                + "/"
                + path
                + ": the path inside "
                + "the repository must be plain names separated by single '/'");
      }
    }
  }

  /** True if {@code s} is written as an {@code hf://} location. */
  public static boolean isHub(String s) {
    return s != null && s.regionMatches(true, 0, SCHEME, 0, SCHEME.length());
  }

  /** Parses {@code hf://...}; the message of a bad one names it and the expected form. */
  public static HubUri parse(String s) {
    if (!isHub(s)) {
      throw new QdmException(s + ": not an hf:// location");
    }
    String rest = s.substring(SCHEME.length());
    boolean dataset = false;
    if (rest.startsWith("datasets/")) {
      dataset = true;
      rest = rest.substring("datasets/".length());
    } else if (rest.startsWith("models/")) {
      rest = rest.substring("models/".length());
    }
    while (rest.endsWith("/")) {
      rest = rest.substring(0, rest.length() - 1);
    }
    Matcher m = FORM.matcher(rest);
    if (!m.matches()) {
      throw new QdmException(s + ": expected hf://[datasets/]owner/name[@revision][/path]");
    }
    return new HubUri(
        dataset,
        m.group(1) + "/" + m.group(2),
        m.group(3) == null ? "main" : m.group(3),
        m.group(4) == null ? "" : m.group(4));
  }

  /** True if the revision is already a commit id (nothing to look up). */
  public boolean pinned() {
    return COMMIT.matcher(revision.toLowerCase(Locale.ROOT)).matches();
  }

  /** {@code models} or {@code datasets}: the collection in the hub's URLs. */
  public String collection() {
    return dataset ? "datasets" : "models";
  }

  /** The repository's folder name in the cache, {@code models--owner--name}. */
  public String cacheName() {
    return collection() + "--" + repo.replace("/", "--");
  }

  /** The same repository and revision at another path. */
  public HubUri withPath(String p) {
    return new HubUri(dataset, repo, revision, p);
  }

  /** The repository at this revision, without a path. */
  public HubUri root() {
    return withPath("");
  }

  @Override
  public String toString() {
    return SCHEME
        + (dataset ? "datasets/" : "")
        + repo
        + "@"
        + revision
        + (path.isEmpty() ? "" : "/" + path);
  }
}
