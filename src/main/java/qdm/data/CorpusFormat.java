package qdm.data;

/**
 * How a corpus file is read: {@link #AUTO} decides by extension ({@code .parquet}; {@code .jsonl},
 * {@code .json}, {@code .ndjson}; anything else is text). See {@link CorpusReader}.
 */
public enum CorpusFormat {
  AUTO,
  /** Plain UTF-8 text, one document per file. */
  TEXT,
  /** JSON lines, the text in one field of each object. */
  JSONL,
  /** Parquet, the text in one column. */
  PARQUET
}
