package qdm.io.llama2c;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import qdm.QdmException;

/**
 * The 28-byte header of a llama2.c checkpoint ({@code run.c}'s {@code Config}: seven little-endian
 * int32), and the float32 layout it implies. A negative vocabulary size is llama2.c's way of saying
 * the classifier is stored separately instead of shared with the embedding.
 *
 * @param dim d_model
 * @param hiddenDim the MLP's width
 * @param sharedClassifier the head is the embedding (vocabulary size written positive)
 * @param seqLen the context the model was trained with
 */
public record Llama2cHeader(
    int dim,
    int hiddenDim,
    int layers,
    int heads,
    int kvHeads,
    int vocab,
    boolean sharedClassifier,
    int seqLen) {
  public static final int BYTES = 28;

  /** Reads and checks the header of {@code file} against the file's size. */
  public static Llama2cHeader read(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < BYTES) {
        throw new QdmException(
            file + ": " + size + " bytes, too short for a llama2.c checkpoint header (28 bytes)");
      }
      ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
      while (b.hasRemaining() && ch.read(b) >= 0) {
        // fill
      }
      b.flip();
      int dim = b.getInt();
      int hidden = b.getInt();
      int layers = b.getInt();
      int heads = b.getInt();
      int kvHeads = b.getInt();
      int vocab = b.getInt();
      int seqLen = b.getInt();
      Llama2cHeader h =
          new Llama2cHeader(
              dim, hidden, layers, heads, kvHeads, Math.abs(vocab), vocab > 0, seqLen);
      h.check(file, size);
      return h;
    } catch (IOException e) {
      throw new QdmException(file + ": cannot read: " + e.getMessage());
    }
  }

  private void check(Path file, long size) {
    String where = file + ": llama2.c header ";
    if (dim <= 0
        || hiddenDim <= 0
        || layers <= 0
        || heads <= 0
        || kvHeads <= 0
        || vocab <= 0
        || seqLen <= 0) {
      throw new QdmException(where + "has a non-positive size: " + this);
    }
    if (dim % heads != 0 || heads % kvHeads != 0 || headSize() % 2 != 0) {
      throw new QdmException(
          where
              + "dim "
              + dim
              + " / heads "
              + heads
              + " / kv heads "
              + kvHeads
              + " do not give an even head size shared by the kv heads");
    }
    long expected = BYTES + 4 * floats();
    if (size != expected) {
      throw new QdmException(
          file
              + ": "
              + size
              + " bytes, but the header (dim "
              + dim
              + ", hidden "
              + hiddenDim
              + ", "
              + layers
              + " layers, "
              + heads
              + " heads, "
              + kvHeads
              + " kv heads, vocab "
              + vocab
              + (sharedClassifier ? ", shared classifier" : ", own classifier")
              + ", seq_len "
              + seqLen
              + ") implies "
              + expected
              + (size < expected ? ": the file is truncated" : ": the file is longer"));
    }
  }

  public int headSize() {
    return dim / heads;
  }

  public int kvDim() {
    return kvHeads * headSize();
  }

  /** Float32 values after the header, in run.c's order (RoPE tables included). */
  public long floats() {
    long l = layers;
    long f = (long) vocab * dim; // token embedding
    f += l * dim; // rms_att
    f += l * dim * dim; // wq
    f += 2 * l * dim * kvDim(); // wk, wv
    f += l * dim * dim; // wo
    f += l * dim; // rms_ffn
    f += 3 * l * dim * hiddenDim; // w1, w2, w3
    f += dim; // rms_final
    f += (long) seqLen * headSize(); // freq_cis real and imaginary halves
    if (!sharedClassifier) {
      f += (long) vocab * dim;
    }
    return f;
  }
}
