/**
 * Frozen sparse autoencoders: reading them from SAELens, Gemma Scope and sparsify files, and
 * encoding residual-stream activations into sparse feature codes.
 *
 * <p>Use:
 *
 * <pre>{@code
 * SaeConfig cfg = Sae.readConfig(dir, SaeFormat.AUTO, Optional.empty()); // files checked
 * cfg.checkCompatible(model.config(), ModelName.of(modelDir));           // before any compute
 * try (Sae sae = Sae.load(cfg, rootManager)) {
 *   NDArray resid = activations.residPost(sae.hook().block());  // Capture.residualAt(block)
 *   SparseCodes codes = sae.encodeSparse(resid);                // or encode(): dense
 * }
 * }</pre>
 *
 * <p>Shape of the package: {@link qdm.sae.Sae} owns weights, preprocessing, the encoder and
 * decoder, the sparse output and the reconstruction figures; {@code StandardSae}, {@code
 * JumpReluSae} and {@code TopKSae} hold only their activation rule and are chosen by {@link
 * qdm.sae.SaeArchitectures}; {@code SaeLensFormat}, {@code GemmaScopeFormat} and {@code
 * SparsifyFormat} turn each file layout into one {@link qdm.sae.SaeConfig} and the canonical
 * weights, folding input normalization in; {@link qdm.model.HookPoint} and {@link
 * qdm.sae.ModelName} match an SAE to a model.
 */
package qdm.sae;
