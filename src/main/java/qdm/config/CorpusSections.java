package qdm.config;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import qdm.data.CorpusFormat;

/** The {@code corpus} and {@code windows} sections: which text, how much, in which windows. */
final class CorpusSections {
  private CorpusSections() {}

  static AuditConfig.CorpusSettings corpus(ConfigReads r) {
    List<String> paths = r.stringList("qdm.corpus.paths");
    if (paths.isEmpty()) {
      r.bad("qdm.corpus.paths", "must list at least one file or directory");
    }
    return new AuditConfig.CorpusSettings(
        paths,
        r.oneOf("qdm.corpus.format", CorpusFormat.values()),
        r.requiredString("qdm.corpus.text-column"),
        r.string("qdm.corpus.separator"),
        r.positiveLong("qdm.corpus.max-tokens"),
        r.bool("qdm.corpus.bos"));
  }

  /** The windows and the source hints of a separate sliding corpus. */
  record Windows(AuditConfig.WindowSettings settings, List<String> slideSources) {}

  static Windows windows(ConfigReads r, long maxTokens) {
    int chunk = r.intAtLeast("qdm.windows.chunk-length", 2);
    if (maxTokens > 0 && chunk > 0 && maxTokens < chunk) {
      r.bad(
          "qdm.corpus.max-tokens",
          "must be at least one chunk (" + chunk + " tokens), got " + maxTokens);
    }
    int slideLength = r.intAtLeast("qdm.windows.sliding.length", 2);
    int stride = r.intAtLeast("qdm.windows.sliding.stride", 1);
    if (slideLength > 0 && stride >= slideLength) {
      r.bad(
          "qdm.windows.sliding.stride",
          "must be smaller than the window length "
              + slideLength
              + " (each window must overlap the previous one), got "
              + stride);
    }
    OptionalLong slideTokens =
        r.c.getIsNull("qdm.windows.sliding.max-tokens")
            ? OptionalLong.empty()
            : OptionalLong.of(r.positiveLong("qdm.windows.sliding.max-tokens"));
    Optional<AuditConfig.SlidingCorpus> slideCorpus = Optional.empty();
    List<String> slideSources = List.of();
    if (!r.c.getIsNull("qdm.windows.sliding.corpus.paths")) {
      List<String> slidePaths = r.stringList("qdm.windows.sliding.corpus.paths");
      if (slidePaths.isEmpty()) {
        r.bad(
            "qdm.windows.sliding.corpus.paths",
            "must list at least one file or directory "
                + "(or be null: the sliding windows then read the chunk windows' corpus)");
      }
      slideCorpus =
          Optional.of(
              new AuditConfig.SlidingCorpus(
                  slidePaths,
                  r.oneOf("qdm.windows.sliding.corpus.format", CorpusFormat.values()),
                  r.requiredString("qdm.windows.sliding.corpus.text-column")));
      slideSources = r.sourceList("qdm.windows.sliding.corpus.source", slidePaths.size());
    } else if (!r.c.getIsNull("qdm.windows.sliding.corpus.source")) {
      r.bad(
          "qdm.windows.sliding.corpus.source",
          "applies only with " + "qdm.windows.sliding.corpus.paths");
    }
    return new Windows(
        new AuditConfig.WindowSettings(
            chunk,
            new AuditConfig.Sliding(
                r.bool("qdm.windows.sliding.enabled"),
                slideLength,
                stride,
                r.bool("qdm.windows.sliding.bos"),
                slideTokens,
                slideCorpus)),
        slideSources);
  }
}
