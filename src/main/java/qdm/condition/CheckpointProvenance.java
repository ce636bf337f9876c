package qdm.condition;

import java.util.OptionalDouble;
import qdm.compress.Convention;
import qdm.io.LocalPaths;
import qdm.model.CheckpointFiles;
import qdm.model.CheckpointSource;
import qdm.model.Model;
import qdm.model.ModelConfig;
import qdm.model.ModelFiles;

/** A checkpoint condition's provenance, read from its files: format, decoded bits, path. */
final class CheckpointProvenance {
  private CheckpointProvenance() {}

  static Provenance of(Condition.Checkpoint k, ModelFiles reference) {
    ModelConfig model = Model.readConfig(reference);
    try (var store =
        Model.openCheckpoint(
            CheckpointFiles.resolve(LocalPaths.local(k.path()), k.format(), reference))) {
      return new Provenance(
          k.method(),
          CheckpointSource.bits(store, model),
          OptionalDouble.empty(),
          Convention.HF,
          "checkpoint " + CheckpointSource.describe(store) + ": " + k.path());
    }
  }
}
