package qdm.probe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Consumer;
import qdm.QdmException;
import qdm.compress.Compressed;
import qdm.compress.CompressionReport;
import qdm.condition.ConditionWeights;
import qdm.condition.ReferenceModel;
import qdm.io.HostTensor;
import qdm.model.Activations;
import qdm.model.Capture;
import qdm.model.Model;
import qdm.model.TorchEngine;
import qdm.sae.ModelName;
import qdm.sae.Sae;
import qdm.sae.SaeConfig;

/** Runs one forward pass with everything captured and copies the results to the host. */
public final class ForwardProbe {
  private ForwardProbe() {}

  /** Loads the model, runs {@code request} and returns every output tensor in float32. */
  public static ForwardOutput run(ForwardRequest request) {
    return run(request, report -> {});
  }

  /**
   * As {@link #run(ForwardRequest)}; {@code onCompressed} receives the compression's report when
   * the request compresses the weights.
   */
  public static ForwardOutput run(
      ForwardRequest request, Consumer<CompressionReport> onCompressed) {
    checkContext(
        request.inputIds(), Model.contextLength(request.files()), request.files().config());
    // the SAE is checked against the model before anything is loaded
    Optional<SaeConfig> saeConfig =
        request
            .sae()
            .map(
                s -> {
                  SaeConfig c = Sae.readConfig(s.path(), s.format(), s.hook());
                  c.checkCompatible(
                      Model.readConfig(request.files()), ModelName.of(request.modelDir()));
                  return c;
                });
    try (NDManager root = TorchEngine.newManager(request.placement().device());
        Model model =
            Model.load(
                request.files(),
                root,
                request.placement().device(),
                request.placement().dtype(),
                request.processing());
        Sae sae = saeConfig.map(c -> Sae.load(c, root)).orElse(null)) {
      long[][] ids = request.inputIds();
      checkVocabulary(ids, model.config().vocabSize());
      ForwardOutput out = new ForwardOutput();
      ReferenceModel ref =
          new ReferenceModel(
              model, request.files(), request.processing(), root, request.placement());
      try (Compressed weights = ConditionWeights.derive(request.condition(), ref);
          NDManager batch = root.newSubManager()) {
        if (!request.condition().isReference()) {
          onCompressed.accept(weights.report());
        }
        NDArray tokens = batch.create(flatten(ids), new Shape(ids.length, ids[0].length));
        // everything, plus the SAE's site when it lies inside a block
        Capture capture =
            sae == null
                ? Capture.everything()
                : new Capture(java.util.Set.of(), true, true, true, java.util.Set.of(sae.hook()));
        Activations a = model.withWeights(weights.weights()).forward(tokens, capture);
        List<NDArray> hidden = a.hiddenStates();
        for (int i = 0; i < hidden.size(); i++) {
          out.put("hidden_states." + i, host(hidden.get(i)));
        }
        out.put("logits", host(a.logits().orElseThrow()));
        out.put("nll", host(a.nll().orElseThrow()));
        if (sae != null) {
          out.put("sae_acts", host(sae.encode(a.at(sae.hook()))));
        }
      }
      return out;
    }
  }

  /** Rows longer than the model's context are refused (see Architecture#contextLength). */
  static void checkContext(long[][] ids, OptionalInt context, java.nio.file.Path config) {
    if (context.isPresent() && ids[0].length > context.getAsInt()) {
      throw new QdmException(
          "input_ids rows have "
              + ids[0].length
              + " tokens, more than the "
              + "model's context of "
              + context.getAsInt()
              + " (max_position_embeddings in "
              + config
              + ")");
    }
  }

  static void checkVocabulary(long[][] ids, int vocab) {
    for (int b = 0; b < ids.length; b++) {
      for (int t = 0; t < ids[b].length; t++) {
        if (ids[b][t] < 0 || ids[b][t] >= vocab) {
          throw new QdmException(
              "input_ids["
                  + b
                  + "]["
                  + t
                  + "] = "
                  + ids[b][t]
                  + " is outside the vocabulary [0, "
                  + vocab
                  + ")");
        }
      }
    }
  }

  private static long[] flatten(long[][] ids) {
    long[] flat = new long[ids.length * ids[0].length];
    for (int b = 0; b < ids.length; b++) {
      System.arraycopy(ids[b], 0, flat, b * ids[0].length, ids[b].length);
    }
    return flat;
  }

  /** Copies an NDArray to the host as float32. */
  public static HostTensor host(NDArray a) {
    NDArray f = a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
    return new HostTensor(f.getShape().getShape(), f.toFloatArray());
  }
}
