package qdm.drift;

/**
 * How far one compressed condition moves the model away from the full-precision one, on the sample
 * of a {@link DriftProbe}. Each change is a ratio of Frobenius norms over the whole sample (every
 * token position together): {@code ||A_c - A_fp|| / ||A_fp||}.
 *
 * @param condition the condition's name
 * @param compression the compression, in {@code --compress} syntax
 * @param weightError ||W - W_hat|| / ||W|| over the compressed tensors
 * @param residualChange change of the residual stream at the SAE's hook
 * @param codeChange change of the SAE's feature activations (dense, zeros included)
 * @param perplexity the condition's perplexity over the sample (token-weighted)
 * @param klMean mean per-token KL divergence of the next-token distribution from the reference's
 * @param top1SamePct percent of positions whose most likely next token is the reference's
 */
public record ConditionDrift(
    String condition,
    String compression,
    double weightError,
    double residualChange,
    double codeChange,
    double perplexity,
    double klMean,
    double top1SamePct) {}
