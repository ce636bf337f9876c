package qdm.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import qdm.QdmException;
import qdm.config.AuditConfig;
import qdm.model.JsonFields;
import qdm.model.Model;
import qdm.model.ModelConfig;
import qdm.model.ModelFiles;
import qdm.sae.ModelName;
import qdm.sae.Sae;
import qdm.sae.SaeConfig;
import qdm.sae.SaeFormat;

/**
 * Everything checked before any compute: the model's config and weights layout, the tokenizer,
 * the SAE and its fit to the model, and the corpus paths. Nothing here loads weights, so a dry
 * run is cheap even for a large model.
 *
 * @param model the model's parsed configuration
 * @param sae the SAE's configuration (hook resolved)
 * @param bosTokenId the tokenizer's BOS id from {@code config.json}, or -1 if it has none
 */
public record Preflight(ModelConfig model, SaeConfig sae, int bosTokenId) {

  /** Runs every check; throws one {@link QdmException} listing what is wrong. */
  public static Preflight check(AuditConfig config) {
    List<String> problems = new ArrayList<>();
    ModelFiles files = new ModelFiles(Path.of(Paths.local(config.model().path())),
        config.model().weights().map(w -> Path.of(Paths.local(w))));
    ModelConfig model = null;
    int bos = -1;
    try {
      model = Model.readConfig(files);
      try (var store = files.openWeights()) {
        qdm.model.WeightsLoader.check(store, model.tensors());
      }
      bos = JsonFields.read(files.config()).integer("bos_token_id", -1);
      if (!Files.isRegularFile(files.tokenizer())) {
        problems.add("qdm.model.path: " + files.tokenizer() + " not found (the model directory "
            + "needs its tokenizer.json)");
      }
    } catch (QdmException e) {
      problems.add("qdm.model: " + e.getMessage());
    }
    if ((config.corpus().bos() || config.windows().sliding().enabled()
        && config.windows().sliding().bos()) && bos < 0 && model != null) {
      problems.add("qdm.corpus.bos / qdm.windows.sliding.bos: a BOS token is asked for but "
          + files.config() + " has no bos_token_id");
    }
    SaeConfig sae = null;
    try {
      sae = Sae.readConfig(Path.of(Paths.local(config.sae().path())),
          SaeFormat.parse(config.sae().format()), config.sae().hook());
      if (model != null) {
        sae.checkCompatible(model, ModelName.of(files.dir()));
      }
    } catch (QdmException e) {
      problems.add("qdm.sae: " + e.getMessage());
    }
    for (String p : config.corpus().paths()) {
      if (!p.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") || p.startsWith("file:")) {
        Path local = Path.of(p.startsWith("file:") ? java.net.URI.create(p).getPath() : p);
        if (!Files.exists(local)) {
          problems.add("qdm.corpus.paths: " + p + " not found");
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new QdmException((config.source() == null ? "" : config.source() + ": ")
          + (problems.size() == 1 ? problems.get(0)
              : problems.size() + " problems:\n  " + String.join("\n  ", problems)));
    }
    return new Preflight(model, sae, bos);
  }

  /** The hook as TransformerLens names it. */
  public String hook() {
    return sae.hook().toString();
  }

  Optional<Integer> bos() {
    return bosTokenId >= 0 ? Optional.of(bosTokenId) : Optional.empty();
  }
}
