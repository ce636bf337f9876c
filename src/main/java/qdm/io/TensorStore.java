package qdm.io;

import java.nio.file.Path;
import java.util.Set;

/**
 * Read access to the named tensors of a checkpoint, whatever its files: one safetensors file, a
 * sharded safetensors checkpoint, or an npz archive.
 *
 * <p>Floating point tensors of every stored type are read as float32 (widened in Java), because the
 * forward pass and the SAE compute in float32 or a type derived from it on the device.
 */
public interface TensorStore extends AutoCloseable {

  /** The file or directory the tensors come from, for messages. */
  Path source();

  /**
   * The file that holds tensor {@code name} (a shard of a sharded checkpoint), for messages; {@link
   * #source()} unless the store spans several files.
   */
  default Path fileOf(String name) {
    return source();
  }

  /**
   * True when tensor {@code name} is a linear layer's weight laid out [out, in] whatever the
   * architecture's own checkpoint convention: a layer a quantized format stores as a linear layer
   * and this store dequantizes (GPT-2's Conv1D weights are [in, out] in HF files, but a GPTQ or
   * GGUF export of GPT-2 holds them as [out, in]). False for plain files.
   */
  default boolean storedAsLinear(String name) {
    return false;
  }

  /**
   * The store this one presents under other names or layouts (an architecture's view of a
   * checkpoint), or itself: what the weights' format is, for descriptions.
   */
  default TensorStore underlying() {
    return this;
  }

  /** Names of all tensors, in a stable order. */
  Set<String> names();

  /** Info of a tensor; throws a {@link TensorFormatException} naming the store if absent. */
  TensorInfo info(String name);

  default boolean contains(String name) {
    return names().contains(name);
  }

  /**
   * Reads {@code count} elements starting at element {@code from} of a floating point tensor,
   * widened to float32, into {@code dst[dstOffset ...]}. Works for tensors of any size.
   */
  void readFloats(String name, long from, float[] dst, int dstOffset, int count);

  /** Reads a whole floating point tensor as float32; fails above 2^31 - 1 elements. */
  default float[] readFloats(String name) {
    TensorInfo info = info(name);
    long n = info.numel();
    if (n > Integer.MAX_VALUE - 8) {
      throw new TensorFormatException(
          source(), name, "has " + n + " elements, too many for one array; read it in pieces");
    }
    float[] out = new float[(int) n];
    readFloats(name, 0, out, 0, (int) n);
    return out;
  }

  /** Reads a whole integer tensor (I64, I32, I16, I8, U8, BOOL) as longs. */
  long[] readLongs(String name);

  @Override
  void close();
}
