package qdm.condition;

import ai.djl.ndarray.NDManager;
import qdm.model.Model;
import qdm.model.ModelFiles;
import qdm.model.Placement;
import qdm.model.Processing;

/**
 * The loaded reference model with what it takes to load another set of weights like it: its files
 * (a checkpoint condition is read with the reference's config.json), its processing, the manager
 * and placement its tensors live under.
 */
public record ReferenceModel(
    Model model, ModelFiles files, Processing processing, NDManager manager, Placement placement) {}
