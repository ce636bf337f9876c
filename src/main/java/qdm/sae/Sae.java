package qdm.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.core.Linear;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import qdm.io.FiniteTensors;
import qdm.io.TensorStore;
import qdm.model.HookPoint;
import qdm.model.ModelConfig;

/**
 * A frozen sparse autoencoder on one device: the base every architecture shares. It owns the
 * weights, the input preprocessing, the linear encoder and decoder, the sparse output and the
 * reconstruction figures; an architecture ({@link StandardSae}, {@link JumpReluSae}, {@link
 * TopKSae}) writes only its activation rule ({@link #activate}, and optionally a faster way to its
 * non-zeros, {@link #sparseCodes}).
 *
 * <p>Encoding follows SAELens: {@code pre = (float32(x) - b_dec?) W_enc + b_enc}, {@code acts =
 * activate(pre)}, {@code x_hat = acts W_dec + b_dec}, with {@code b_dec} subtracted only when
 * {@code apply_b_dec_to_input}, and any input normalization folded into the weights at load (see
 * {@link SaeConfig#inputScale()}).
 *
 * <p>Memory: the weights live under a child of the manager given to {@link #load}, for the SAE's
 * lifetime ({@link #close} frees them). Every result of an encode lives under the manager of its
 * input (a per-batch manager the caller closes): the weights are only ever the second operand of an
 * op, and the host results ({@link SparseCodes}, {@link Reconstruction}) are copied out of a
 * scratch manager that is closed before returning.
 */
public abstract class Sae implements AutoCloseable {
  private final SaeConfig config;
  private final SaeTensors weights;
  private final NDArray encoderRows; // W_enc^T [d_sae, d_in], a view: torch linear's layout
  private long chunkElements = 1L << 26;

  Sae(SaeConfig config, SaeTensors weights) {
    this.config = config;
    this.weights = weights;
    this.encoderRows = weights.wEnc().transpose();
  }

  /**
   * Reads an SAE's configuration without loading its weights, checking the files fully (config keys
   * and tensor shapes): the step to run, with {@link SaeConfig#checkCompatible}, before any
   * compute.
   *
   * @param path the SAE directory (or a Gemma Scope {@code params.npz})
   * @param format the file format, or {@link SaeFormat#AUTO} to detect it
   * @param hook a TransformerLens hook name, needed when the files do not say where the SAE reads;
   *     when they do, it must agree
   */
  public static SaeConfig readConfig(Path path, SaeFormat format, Optional<String> hook) {
    SaeFormat concrete = format.resolve(path);
    return concrete.loader().readConfig(path, hook.map(HookPoint::parse));
  }

  /**
   * Scans every tensor of the SAE's files for NaN and infinities, streamed, without loading
   * anything onto a device: the preflight's check, so a corrupt SAE fails before any encode
   * (loading checks the same again, for callers that load directly).
   */
  public static void requireFinite(SaeConfig config) {
    try (TensorStore store = config.format().loader().open(config)) {
      FiniteTensors.requireAll(store);
    }
  }

  /** Loads the SAE of {@code config} onto {@code parent}'s device, under a child manager. */
  public static Sae load(SaeConfig config, NDManager parent) {
    NDManager manager = parent.newSubManager();
    try {
      SaeTensors weights = config.format().loader().load(config, manager);
      return SaeArchitectures.build(config, weights);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** {@link #readConfig} then {@link #load(SaeConfig, NDManager)}. */
  public static Sae load(Path path, SaeFormat format, Optional<String> hook, NDManager parent) {
    return load(readConfig(path, format, hook), parent);
  }

  public SaeConfig config() {
    return config;
  }

  /** Where the SAE reads the model. */
  public HookPoint hook() {
    return config.hook();
  }

  /** See {@link SaeConfig#checkCompatible(ModelConfig, Optional)}. */
  public void checkCompatible(ModelConfig model, Optional<String> modelName) {
    config.checkCompatible(model, modelName);
  }

  /** See {@link SaeConfig#checkCompatible(ModelConfig)}. */
  public void checkCompatible(ModelConfig model) {
    config.checkCompatible(model);
  }

  /** Encoder weights [d_in, d_sae], normalization folded. */
  public NDArray wEnc() {
    return weights.wEnc();
  }

  /** Encoder bias [d_sae]. */
  public NDArray bEnc() {
    return weights.bEnc();
  }

  /** Decoder weights [d_sae, d_in], normalization folded. */
  public NDArray wDec() {
    return weights.wDec();
  }

  /** Decoder bias [d_in], normalization folded. */
  public NDArray bDec() {
    return weights.bDec();
  }

  /**
   * The encoder input, as SAELens's {@code process_sae_in}: {@code x} [..., d_in] (already cut to
   * its head, {@link #select}) as float32, normalized at run time if the SAE says so ({@link
   * SaeInput}), minus {@code b_dec} if {@code apply_b_dec_to_input}.
   */
  public NDArray preprocess(NDArray x) {
    checkWidth(x, config.dIn(), "d_in");
    NDArray f = x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
    f = normalize(f);
    return config.applyBDecToInput() ? f.sub(weights.bDec()) : f;
  }

  /** SAELens's run-time {@code normalize_activations} of a float32 input [..., d_in]. */
  private NDArray normalize(NDArray f) {
    switch (config.input().normalization()) {
      case SaeInput.CONSTANT_NORM_RESCALE -> {
        // x * sqrt(d_in) / ||x||
        NDArray norm = f.square().sum(new int[] {-1}, true).sqrt();
        return f.mul(qdm.model.Ops.scalar(f, Math.sqrt(config.dIn()))).div(norm);
      }
      case SaeInput.LAYER_NORM -> {
        // (x - mean) / (std + 1e-5), std with Bessel's correction as torch.std
        NDArray centred = f.sub(f.mean(new int[] {-1}, true));
        NDArray std =
            centred
                .square()
                .sum(new int[] {-1}, true)
                .div(qdm.model.Ops.scalar(f, config.dIn() - 1))
                .sqrt();
        return centred.div(std.add(qdm.model.Ops.scalar(f, 1e-5)));
      }
      default -> {
        return f;
      }
    }
  }

  /**
   * The part of a captured site the SAE reads: for an SAE on one attention head ({@code
   * hook_head_index}), that head's d_head slice of the flattened site; else all of it.
   */
  public NDArray select(NDArray x) {
    if (config.input().headIndex().isEmpty()) {
      return x;
    }
    long h = config.input().headIndex().getAsInt();
    long d = config.dIn();
    return x.get(new NDIndex("..., {}:{}", h * d, (h + 1) * d));
  }

  /**
   * Activations [..., d_sae] of inputs [..., d_in]: {@code activate(preActivations(x))}; an
   * architecture whose activation needs more than the pre-activations overrides this.
   */
  protected NDArray activations(NDArray x) {
    return activate(preActivations(x));
  }

  /**
   * Pre-activations {@code preprocess(x) W_enc + b_enc}, [..., d_sae]: one fused multiply-add
   * (torch linear), so the bias costs no extra pass over the largest array.
   */
  public NDArray preActivations(NDArray x) {
    return Linear.linear(preprocess(x), encoderRows, weights.bEnc()).singletonOrThrow();
  }

  /** The architecture's activation rule: pre-activations [..., d_sae] to activations. */
  protected abstract NDArray activate(NDArray pre);

  /**
   * The non-zero activations of pre-activations [N, d_sae], on the host. The default extracts them
   * from {@link #activate}; an architecture may find them without the dense array.
   */
  protected SparseCodes sparseCodes(NDArray pre) {
    return sparse(activate(pre));
  }

  /** The non-zero activations of input rows [N, d_in]. */
  protected SparseCodes sparseCodesOfRows(NDArray rows) {
    return sparseCodes(preActivations(rows));
  }

  /** Dense feature activations [..., d_sae] of inputs [..., d_in], under x's manager. */
  public NDArray encode(NDArray x) {
    NDManager owner = x.getManager();
    try (NDManager scratch = owner.newSubManager()) {
      x.tempAttach(scratch); // intermediates follow their first operand into scratch
      NDArray acts = activations(select(x));
      acts.attach(owner);
      return acts;
    }
  }

  /** Reconstructions {@code acts W_dec + b_dec} [..., d_in] of activations [..., d_sae]. */
  public NDArray decode(NDArray acts) {
    checkWidth(acts, config.dSae(), "d_sae");
    return acts.matMul(weights.wDec()).add(weights.bDec());
  }

  /**
   * The non-zero activations of inputs [..., d_in] on the host; token i is row i of the input with
   * its leading dimensions flattened.
   */
  public SparseCodes encodeSparse(NDArray x) {
    try (NDManager scratch = x.getManager().newSubManager()) {
      x.tempAttach(scratch); // intermediates follow their first operand into scratch
      NDArray input = select(x).reshape(-1, config.dIn());
      List<SparseCodes> parts = new ArrayList<>();
      for (long from = 0; from < input.getShape().get(0); from += chunkRows()) {
        try (NDManager chunk = scratch.newSubManager()) {
          parts.add(sparseCodesOfRows(rows(input, from, chunk)));
        }
      }
      return SparseCodes.concat(parts, config.dSae());
    }
  }

  /** Encodes a batch [..., d_in] to sparse codes and computes its reconstruction figures. */
  public EncodedBatch encodeBatch(NDArray x) {
    try (NDManager scratch = x.getManager().newSubManager()) {
      x.tempAttach(scratch);
      NDArray input = select(x).reshape(-1, config.dIn());
      List<SparseCodes> parts = new ArrayList<>();
      double error = 0;
      for (long from = 0; from < input.getShape().get(0); from += chunkRows()) {
        try (NDManager chunk = scratch.newSubManager()) {
          NDArray rows = rows(input, from, chunk);
          NDArray acts = activations(rows);
          parts.add(sparse(acts));
          error += squaredError(rows, acts);
        }
      }
      SparseCodes codes = SparseCodes.concat(parts, config.dSae());
      return new EncodedBatch(
          codes, new Reconstruction(codes.tokens(), codes.size(), error, variance(input)));
    }
  }

  /**
   * The codes of inputs [..., width] and what the SAE makes of them, for the fidelity figures and
   * the CE-loss splice, under the manager of {@code x}.
   *
   * @param codes the non-zero codes, on the host
   * @param input the SAE's input as captured [N, d_in] (its head's slice for a one-head SAE),
   *     float32
   * @param reconstruction x̂ [N, d_in] in the same units as {@code input}: decoded, then any
   *     run-time input normalization undone (SAELens's {@code run_time_activation_norm_fn_out})
   */
  public record Output(SparseCodes codes, NDArray input, NDArray reconstruction) {}

  /** Encodes and reconstructs inputs [..., width] in chunks of rows; see {@link Output}. */
  public Output encodeAndReconstruct(NDArray x) {
    NDManager owner = x.getManager();
    try (NDManager scratch = owner.newSubManager()) {
      x.tempAttach(scratch);
      NDArray input = select(x).reshape(-1, config.dIn());
      if (input.getDataType() != DataType.FLOAT32) {
        input = input.toType(DataType.FLOAT32, false);
      }
      List<SparseCodes> parts = new ArrayList<>();
      ai.djl.ndarray.NDList decoded = new ai.djl.ndarray.NDList();
      for (long from = 0; from < input.getShape().get(0); from += chunkRows()) {
        try (NDManager chunk = scratch.newSubManager()) {
          NDArray rows = rows(input, from, chunk);
          NDArray acts = activations(rows);
          parts.add(sparse(acts));
          NDArray xHat = denormalize(decode(acts), rows);
          xHat.attach(scratch);
          decoded.add(xHat);
        }
      }
      NDArray reconstruction = qdm.model.Ops.concat(decoded, 0);
      reconstruction.attach(owner);
      NDArray in = input.duplicate();
      in.attach(owner);
      return new Output(SparseCodes.concat(parts, config.dSae()), in, reconstruction);
    }
  }

  /** Undoes {@link #normalize} on a reconstruction of normalized inputs {@code x}. */
  private NDArray denormalize(NDArray xHat, NDArray x) {
    switch (config.input().normalization()) {
      case SaeInput.CONSTANT_NORM_RESCALE -> {
        NDArray norm = x.square().sum(new int[] {-1}, true).sqrt();
        return xHat.mul(norm).div(qdm.model.Ops.scalar(x, Math.sqrt(config.dIn())));
      }
      case SaeInput.LAYER_NORM -> {
        NDArray mean = x.mean(new int[] {-1}, true);
        NDArray centred = x.sub(mean);
        NDArray std =
            centred
                .square()
                .sum(new int[] {-1}, true)
                .div(qdm.model.Ops.scalar(x, config.dIn() - 1))
                .sqrt();
        return xHat.mul(std.add(qdm.model.Ops.scalar(x, 1e-5))).add(mean);
      }
      default -> {
        return xHat;
      }
    }
  }

  /**
   * Tokens encoded at once by {@link #encodeSparse} and {@link #encodeBatch}: bounds the [tokens,
   * d_sae] intermediates to 2^26 floats (256 MiB), whatever the batch size.
   */
  private long chunkRows() {
    return Math.max(1, chunkElements / config.dSae());
  }

  /** Sets the intermediate bound of {@link #chunkRows} (tests use small chunks). */
  void chunkElements(long elements) {
    this.chunkElements = elements;
  }

  /** Rows {@code from .. from + chunkRows()} of {@code input}, under {@code manager}. */
  private NDArray rows(NDArray input, long from, NDManager manager) {
    long to = Math.min(input.getShape().get(0), from + chunkRows());
    NDArray rows = input.get(new NDIndex("{}:{}", from, to));
    rows.attach(manager);
    return rows;
  }

  /**
   * The non-zero entries of dense activations [..., d_sae], copied to the host. Only the non-zeros
   * cross to the host: their flat positions are found on the device, and for batches below 2^31
   * activations they travel as 32-bit ints.
   */
  public static SparseCodes sparse(NDArray acts) {
    long[] shape = acts.getShape().getShape();
    int dSae = Math.toIntExact(shape[shape.length - 1]);
    try (NDManager scratch = acts.getManager().newSubManager()) {
      acts.tempAttach(scratch);
      NDArray flat = acts.reshape(-1);
      NDArray positions = flat.nonzero().reshape(-1); // row-major order
      return toHost(positions, flat.gather(positions, 0), acts.size(), dSae);
    }
  }

  /**
   * Sparse codes from flat positions (int64, ascending) into a [tokens, dSae] array and the values
   * there, copied to the host; positions travel as 32-bit ints when they fit.
   */
  static SparseCodes toHost(NDArray positions, NDArray values, long size, int dSae) {
    int tokens = Math.toIntExact(size / dSae);
    float[] activation =
        (values.getDataType() == DataType.FLOAT32 ? values : values.toType(DataType.FLOAT32, false))
            .toFloatArray();
    int n = activation.length;
    int[] token = new int[n];
    int[] feature = new int[n];
    if (size <= Integer.MAX_VALUE) {
      int[] pos = positions.toType(DataType.INT32, false).toIntArray();
      for (int i = 0; i < n; i++) {
        token[i] = pos[i] / dSae;
        feature[i] = pos[i] % dSae;
      }
    } else {
      long[] pos = positions.toLongArray();
      for (int i = 0; i < n; i++) {
        token[i] = (int) (pos[i] / dSae);
        feature[i] = (int) (pos[i] % dSae);
      }
    }
    return new SparseCodes(tokens, dSae, token, feature, activation);
  }

  /**
   * Reconstruction figures of one batch: inputs [..., d_in] as captured and their dense activations
   * [..., d_sae]. Sums are taken in float64 on the device.
   */
  public Reconstruction reconstruction(NDArray x, NDArray acts) {
    try (NDManager scratch = x.getManager().newSubManager()) {
      x.tempAttach(scratch);
      acts.tempAttach(scratch);
      NDArray input = select(x).reshape(-1, config.dIn());
      long nonZeros = acts.countNonzero().toType(DataType.INT64, false).getLong();
      return new Reconstruction(
          input.getShape().get(0),
          nonZeros,
          squaredError(input, acts.reshape(-1, config.dSae())),
          variance(input));
    }
  }

  /** Sum of ||x - decode(acts)||^2 over rows of inputs [N, d_in] and activations [N, d_sae]. */
  private double squaredError(NDArray x, NDArray acts) {
    NDArray f = x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
    NDArray xHat = decode(acts);
    return f.sub(xHat).toType(DataType.FLOAT64, false).square().sum().getDouble();
  }

  /** Sum of ||x - mean(x)||^2 over rows of inputs [N, d_in], the mean taken over the rows. */
  private static double variance(NDArray x) {
    NDArray wide = x.toType(DataType.FLOAT64, false);
    return wide.sub(wide.mean(new int[] {0}, true)).square().sum().getDouble();
  }

  private void checkWidth(NDArray a, int width, String what) {
    long[] s = a.getShape().getShape();
    if (s.length == 0 || s[s.length - 1] != width) {
      throw new IllegalArgumentException(
          "expected [..., "
              + width
              + "] ("
              + what
              + " of "
              + config.source()
              + "), got "
              + a.getShape());
    }
  }

  @Override
  public void close() {
    weights.manager().close();
  }

  @Override
  public String toString() {
    return config.architecture()
        + " SAE "
        + config.dIn()
        + " x "
        + config.dSae()
        + " at "
        + config.hook()
        + " ("
        + config.source()
        + ")";
  }
}
