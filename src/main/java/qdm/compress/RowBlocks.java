package qdm.compress;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/**
 * Walks a weight tensor as float32 blocks of whole rows [rows, rowLength], each under its own
 * scratch manager, so a rewrite never holds more than one block's temporaries, and never attaches
 * anything to the weights' long-lived manager. A row is everything after the first axis: one output
 * feature of an [out, in] weight.
 *
 * @param elements the most elements per block (at least one whole row is always taken)
 */
record RowBlocks(long elements) {
  /** Blocks of at most 2^26 elements: 256 MiB of float32 temporaries per step. */
  static final RowBlocks DEFAULT = new RowBlocks(1L << 26);

  /** The whole tensor as one block. */
  static final RowBlocks WHOLE = new RowBlocks(Long.MAX_VALUE);

  /** What to do with one block: {@code w32} is float32 [rows, rowLength] under {@code scope}. */
  interface BlockVisitor {
    void visit(NDArray w32, NDManager scope);
  }

  RowBlocks {
    if (elements < 1) {
      throw new IllegalArgumentException("block elements must be positive, got " + elements);
    }
  }

  /** Number of rows: the first axis (1 for a scalar). */
  static long rows(NDArray w) {
    return w.getShape().dimension() == 0 ? 1 : w.getShape().get(0);
  }

  /** Elements per row. */
  static long rowLength(NDArray w) {
    return w.size() / Math.max(1, rows(w));
  }

  /**
   * The sum of a float32 block [rows, rowLength]: each row summed in float32, the rows in float64,
   * so that sums over large tensors keep their precision.
   */
  static double sum(NDArray block) {
    return block.sum(new int[] {1}).toType(DataType.FLOAT64, false).sum().getDouble();
  }

  /** Visits {@code w} block by block in row order, each block under a child of {@code parent}. */
  void forEach(NDArray w, NDManager parent, BlockVisitor visitor) {
    long rows = rows(w);
    long rowLength = rowLength(w);
    long rowsPerBlock = Math.max(1, elements / Math.max(1, rowLength));
    for (long r0 = 0; r0 < rows; r0 += rowsPerBlock) {
      long n = Math.min(rowsPerBlock, rows - r0);
      try (NDManager scope = parent.newSubManager()) {
        NDArray block =
            w.getShape().dimension() == 0
                ? w.reshape(1, 1)
                : w.get(scope, new NDIndex("{}:{}", r0, r0 + n)).reshape(n, rowLength);
        block.attach(scope);
        visitor.visit(block.toType(DataType.FLOAT32, false), scope);
      }
    }
  }
}
