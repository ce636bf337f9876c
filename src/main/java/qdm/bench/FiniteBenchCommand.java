package qdm.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import qdm.io.FiniteTensors;
import qdm.io.SafetensorsFile;
import qdm.io.TempDirs;

/**
 * {@code qdm bench finite}: the cost of the preflight's finiteness scan on a checkpoint shard of a
 * real size (default 5 GiB of BF16, as Hugging Face shards are), written here with random finite
 * values: seconds, GB/s and the heap the scan needed.
 */
@Command(
    name = "finite",
    mixinStandardHelpOptions = true,
    description = {
      "Time the finiteness scan (NaN / Inf check) of a large safetensors shard.",
      "Writes a shard of random finite BF16 (or F32) values, then scans it twice."
    })
public final class FiniteBenchCommand implements Callable<Integer> {

  @Option(
      names = "--gib",
      defaultValue = "5",
      description = "Shard size in GiB " + "(default: ${DEFAULT-VALUE}).")
  double gib;

  @Option(
      names = "--dtype",
      defaultValue = "BF16",
      description = "BF16, F16 or F32 " + "(default: ${DEFAULT-VALUE}).")
  String dtype;

  @Option(
      names = "--dir",
      description =
          "Where the shard goes (default: a temporary " + "directory, deleted afterwards).")
  Path dir;

  @Override
  public Integer call() throws IOException {
    int width = dtype.equals("F32") ? 4 : 2;
    if (!dtype.matches("BF16|F16|F32") || !(gib > 0)) {
      throw new qdm.QdmException("--dtype must be BF16, F16 or F32 and --gib positive");
    }
    Path work =
        dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("qdm-bench-finite");
    Path shard = work.resolve("model-00001-of-00001.safetensors");
    try {
      long t0 = System.nanoTime();
      long bytes = write(shard, (long) (gib * (1L << 30)), width);
      System.out.printf(
          Locale.ROOT,
          "finite: wrote %s (%.2f GiB of %s) in %.1f s%n",
          shard,
          bytes / (double) (1L << 30),
          dtype,
          (System.nanoTime() - t0) / 1e9);
      for (int pass = 1; pass <= 2; pass++) {
        System.gc();
        long heapBefore = usedHeap();
        long start = System.nanoTime();
        try (SafetensorsFile st = SafetensorsFile.open(shard)) {
          FiniteTensors.requireAll(st);
        }
        double s = (System.nanoTime() - start) / 1e9;
        System.out.printf(
            Locale.ROOT,
            "  scan %d: %.1f s, %.2f GB/s, %.1f M elements/s, heap "
                + "in use %d MiB before, %d MiB after (max heap %d MiB)%n",
            pass,
            s,
            bytes / s / 1e9,
            bytes / width / s / 1e6,
            heapBefore >> 20,
            usedHeap() >> 20,
            Runtime.getRuntime().maxMemory() >> 20);
      }
    } finally {
      if (dir == null) {
        TempDirs.deleteQuietly(work);
      }
    }
    return 0;
  }

  private static long usedHeap() {
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  /** A shard of 256 MiB tensors [rows, 4096] of random finite values; returns data bytes. */
  private long write(Path shard, long target, int width) throws IOException {
    long perTensor = 256L << 20;
    int tensors = (int) Math.max(1, target / perTensor);
    long cols = 4096;
    long rows = perTensor / width / cols;
    JsonObject header = new JsonObject();
    long offset = 0;
    for (int i = 0; i < tensors; i++) {
      JsonObject e = new JsonObject();
      e.addProperty("dtype", dtype);
      JsonArray shape = new JsonArray();
      shape.add(rows);
      shape.add(cols);
      e.add("shape", shape);
      JsonArray offsets = new JsonArray();
      offsets.add(offset);
      offsets.add(offset + rows * cols * width);
      e.add("data_offsets", offsets);
      header.add("model.layers." + i + ".mlp.weight", e);
      offset += rows * cols * width;
    }
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer block = ByteBuffer.allocate(64 << 20).order(ByteOrder.LITTLE_ENDIAN);
    Random r = new Random(1);
    while (block.remaining() >= 4) {
      float v = (float) (r.nextGaussian() * 0.02);
      switch (width) {
        case 4 -> block.putFloat(v);
        default ->
            block.putShort(
                dtype.equals("BF16")
                    ? (short) (Float.floatToIntBits(v) >>> 16)
                    : qdm.io.Floats.floatToF16(v));
      }
    }
    try (FileChannel ch =
        FileChannel.open(
            shard,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
      head.putLong(padded).put(json);
      while (head.hasRemaining()) {
        head.put((byte) ' ');
      }
      head.flip();
      ch.write(head);
      for (long written = 0; written < offset; ) {
        block.clear();
        block.limit((int) Math.min(block.capacity(), offset - written));
        written += ch.write(block);
      }
    }
    return offset;
  }
}
