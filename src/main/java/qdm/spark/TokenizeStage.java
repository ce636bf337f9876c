package qdm.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import qdm.QdmException;
import qdm.config.AuditConfig;
import qdm.data.CorpusReader;
import qdm.data.TokenStream;
import qdm.data.Window;
import qdm.data.Windowing;
import qdm.tables.Schemas;
import qdm.tokenize.Tokenizer;

/**
 * Stage 1: corpus to token windows. Runs on the driver (a few hundred thousand tokens); the corpus
 * is read through Spark so it may live on any Hadoop filesystem. Writes the {@code windows} table:
 * chunk windows, and sliding windows when enabled (from the same token stream, or from {@code
 * windows.sliding.corpus} when the config gives one).
 */
public final class TokenizeStage {
  public static final String NAME = "tokenize";

  private TokenizeStage() {}

  /** What the stage produced, for the manifest and the log. */
  public record Result(long chunkWindows, long chunkTokens, long slideWindows, long slideTokens) {
    Map<String, Object> facts() {
      return Map.of(
          "chunk_windows",
          chunkWindows,
          "chunk_tokens",
          chunkTokens,
          "slide_windows",
          slideWindows,
          "slide_tokens",
          slideTokens);
    }
  }

  /** The windows of a corpus as the config asks; pure except for reading the corpus. */
  public static List<Window> windows(
      SparkSession spark, AuditConfig config, Tokenizer tokenizer, int bosId) {
    var corpus = config.corpus();
    var sliding = config.windows().sliding();
    long chunkBudget = corpus.maxTokens() - (corpus.bos() ? 1 : 0);
    long slideBudget = sliding.maxTokens().orElse(corpus.maxTokens()) - (sliding.bos() ? 1 : 0);
    // a sliding corpus of its own (windows.sliding.corpus) is tokenized separately
    boolean ownSlideCorpus = sliding.enabled() && sliding.corpus().isPresent();
    long budget =
        sliding.enabled() && !ownSlideCorpus ? Math.max(chunkBudget, slideBudget) : chunkBudget;
    CorpusReader reader = new CorpusReader(spark, corpus.format(), corpus.textColumn());
    int[] stream =
        TokenStream.build(reader.documents(corpus.paths()), tokenizer, corpus.separator(), budget);

    int[] chunkStream = TokenStream.prefix(stream, chunkBudget);
    if (corpus.bos()) {
      chunkStream = TokenStream.withBos(chunkStream, bosId);
    }
    List<Window> windows =
        new ArrayList<>(Windowing.chunks(chunkStream, config.windows().chunkLength()));
    if (windows.isEmpty()) {
      throw new QdmException(
          String.join(", ", corpus.paths())
              + ": the corpus has "
              + stream.length
              + " tokens, fewer than one chunk window of "
              + config.windows().chunkLength());
    }
    if (sliding.enabled()) {
      int[] slideStream;
      if (ownSlideCorpus) {
        var sc = sliding.corpus().get();
        slideStream =
            TokenStream.build(
                new CorpusReader(spark, sc.format(), sc.textColumn()).documents(sc.paths()),
                tokenizer,
                corpus.separator(),
                slideBudget);
      } else {
        slideStream = TokenStream.prefix(stream, slideBudget);
      }
      if (sliding.bos()) {
        slideStream = TokenStream.withBos(slideStream, bosId);
      }
      windows.addAll(Windowing.sliding(slideStream, sliding.length(), sliding.stride()));
    }
    return windows;
  }

  /** Windows as rows of {@link Schemas#WINDOWS}. */
  public static Dataset<Row> toRows(SparkSession spark, List<Window> windows) {
    List<Row> rows = new ArrayList<>(windows.size());
    for (Window w : windows) {
      int[] t = w.tokens();
      Integer[] boxed = new Integer[t.length];
      for (int i = 0; i < t.length; i++) {
        boxed[i] = t[i];
      }
      rows.add(
          RowFactory.create(
              w.id(),
              w.kind(),
              w.start(),
              scala.jdk.javaapi.CollectionConverters.asScala(java.util.Arrays.asList(boxed))
                  .toSeq(),
              w.scoreFrom()));
    }
    return spark.createDataFrame(rows, Schemas.WINDOWS);
  }

  /**
   * Fails when the tokenizer produced an id the model has no embedding for: a tokenizer.json of
   * another model (a larger vocabulary) would otherwise fail in the middle of the encode stage, or,
   * on some devices, read another row of memory.
   */
  public static void checkVocabulary(List<Window> windows, int vocabSize, Tokenizer tokenizer) {
    for (Window w : windows) {
      for (int id : w.tokens()) {
        if (id < 0 || id >= vocabSize) {
          throw new QdmException(
              tokenizer.file()
                  + ": the tokenizer produced token id "
                  + id
                  + ", outside the model's vocabulary [0, "
                  + vocabSize
                  + ") of config.json: it is "
                  + "not this model's tokenizer");
        }
      }
    }
  }

  /**
   * The stage's windows, with every check of the corpus's content done (decoding, JSON lines, token
   * ids against the vocabulary), before anything is written: a corpus that fails leaves the run
   * directory as it was.
   */
  public static List<Window> prepare(
      SparkSession spark, AuditConfig config, Tokenizer tokenizer, int bosId, int vocabSize) {
    List<Window> windows = windows(spark, config, tokenizer, bosId);
    checkVocabulary(windows, vocabSize, tokenizer);
    return windows;
  }

  /** Writes prepared {@code windows} as the {@code windows} table, atomically. */
  public static Result publish(SparkSession spark, RunLayout layout, List<Window> windows) {
    long chunkWindows = windows.stream().filter(w -> w.kind().equals(Window.CHUNK)).count();
    long chunkTokens =
        windows.stream().filter(w -> w.kind().equals(Window.CHUNK)).mapToLong(Window::length).sum();
    long slideWindows = windows.size() - chunkWindows;
    long slideTokens =
        windows.stream()
            .filter(w -> w.kind().equals(Window.SLIDE))
            .mapToLong(Window::scoredTargets)
            .sum();
    Path scratch = layout.scratch("windows");
    toRows(spark, windows)
        .coalesce(1)
        .write()
        .mode(SaveMode.ErrorIfExists)
        .parquet(scratch.toString());
    layout.commit(scratch, layout.table("windows"));
    return new Result(chunkWindows, chunkTokens, slideWindows, slideTokens);
  }
}
