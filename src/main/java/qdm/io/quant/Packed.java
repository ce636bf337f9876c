package qdm.io.quant;

/**
 * Unpacking of the integer codes that GPTQ, AWQ and compressed-tensors store in 32-bit words:
 * {@code 32 / bits} codes per word, the first in the lowest bits (GPTQ's 3-bit codes straddle
 * words: 32 codes in 3 words). Words arrive as the longs {@code readLongs} gives for I32.
 */
final class Packed {
  private Packed() {}

  /**
   * The codes of a word matrix [rows, cols] packed along the rows (GPTQ's qweight): code (r *
   * perWord + k, c) is field k of word (r, c). Result [rows * perWord][cols] flattened.
   */
  static int[] unpackRows(long[] words, int rows, int cols, int bits) {
    if (bits == 3) {
      return unpackRows3(words, rows, cols);
    }
    int per = 32 / bits;
    int mask = (1 << bits) - 1;
    int[] out = new int[rows * per * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        long w = words[r * cols + c] & 0xFFFFFFFFL;
        for (int k = 0; k < per; k++) {
          out[(r * per + k) * cols + c] = (int) ((w >>> (bits * k)) & mask);
        }
      }
    }
    return out;
  }

  /**
   * The codes of a word matrix [rows, cols] packed along the columns (GPTQ's qzeros, AWQ's
   * qweight): code (r, c * perWord + k) is field k of word (r, c). Result [rows][cols * perWord].
   */
  static int[] unpackCols(long[] words, int rows, int cols, int bits) {
    if (bits == 3) {
      return unpackCols3(words, rows, cols);
    }
    int per = 32 / bits;
    int mask = (1 << bits) - 1;
    int[] out = new int[rows * cols * per];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        long w = words[r * cols + c] & 0xFFFFFFFFL;
        for (int k = 0; k < per; k++) {
          out[r * cols * per + c * per + k] = (int) ((w >>> (bits * k)) & mask);
        }
      }
    }
    return out;
  }

  /** The 32 three-bit codes of words (w0, w1, w2): 10, 1 + 10, 1 + 10 fields, two straddling. */
  static int[] codes3(long w0, long w1, long w2) {
    int[] v = new int[32];
    for (int i = 0; i < 10; i++) {
      v[i] = (int) ((w0 >>> (3 * i)) & 7);
    }
    v[10] = (int) (((w0 >>> 30) & 3) | ((w1 << 2) & 4));
    for (int i = 0; i < 10; i++) {
      v[11 + i] = (int) ((w1 >>> (1 + 3 * i)) & 7);
    }
    v[21] = (int) (((w1 >>> 31) & 1) | ((w2 << 1) & 6));
    for (int i = 0; i < 10; i++) {
      v[22 + i] = (int) ((w2 >>> (2 + 3 * i)) & 7);
    }
    return v;
  }

  private static int[] unpackRows3(long[] words, int rows, int cols) {
    if (rows % 3 != 0) {
      throw new IllegalArgumentException("3-bit rows " + rows + " not a multiple of 3");
    }
    int blocks = rows / 3;
    int[] out = new int[blocks * 32 * cols];
    for (int b = 0; b < blocks; b++) {
      for (int c = 0; c < cols; c++) {
        int[] v =
            codes3(
                words[(3 * b) * cols + c] & 0xFFFFFFFFL,
                words[(3 * b + 1) * cols + c] & 0xFFFFFFFFL,
                words[(3 * b + 2) * cols + c] & 0xFFFFFFFFL);
        for (int k = 0; k < 32; k++) {
          out[(b * 32 + k) * cols + c] = v[k];
        }
      }
    }
    return out;
  }

  private static int[] unpackCols3(long[] words, int rows, int cols) {
    if (cols % 3 != 0) {
      throw new IllegalArgumentException("3-bit cols " + cols + " not a multiple of 3");
    }
    int blocks = cols / 3;
    int[] out = new int[rows * blocks * 32];
    for (int r = 0; r < rows; r++) {
      for (int b = 0; b < blocks; b++) {
        int[] v =
            codes3(
                words[r * cols + 3 * b] & 0xFFFFFFFFL,
                words[r * cols + 3 * b + 1] & 0xFFFFFFFFL,
                words[r * cols + 3 * b + 2] & 0xFFFFFFFFL);
        System.arraycopy(v, 0, out, r * blocks * 32 + b * 32, 32);
      }
    }
    return out;
  }
}
