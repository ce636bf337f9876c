package qdm.sae;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.Optional;
import qdm.io.TensorStore;
import qdm.model.HookPoint;

/** Reads one SAE file format: its configuration first (cheap, checks everything), then weights. */
interface SaeLoader {

  /**
   * Reads and validates the configuration and the tensor shapes, without loading data.
   *
   * @param hook the hook the user gave, if any; it must agree with the files when they name one
   */
  SaeConfig readConfig(Path path, Optional<HookPoint> hook);

  /** Opens the tensor file of {@code config} (the caller closes it). */
  TensorStore open(SaeConfig config);

  /**
   * Loads the weights of {@code config} as float32 onto {@code manager}'s device, in the canonical
   * layout (W_enc [d_in, d_sae], W_dec [d_sae, d_in]) with any normalization folded.
   */
  SaeTensors load(SaeConfig config, NDManager manager);
}
