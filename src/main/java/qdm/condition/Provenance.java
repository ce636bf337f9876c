package qdm.condition;

import java.util.OptionalDouble;
import java.util.OptionalInt;
import qdm.compress.Convention;

/**
 * What the conditions table records about where a condition's weights came from.
 *
 * @param method {@code none}, the simulated method's id or {@code checkpoint}
 * @param bits bits per weight: a simulated method's {@code bits}, a checkpoint's decoded width
 * @param sparsity a fixed pruning's sparsity (a matched one's comes from its search)
 * @param source {@code reference}, {@code simulated <spec>}, or {@code checkpoint <format>: <path>}
 */
public record Provenance(
    String method,
    OptionalInt bits,
    OptionalDouble sparsity,
    Convention convention,
    String source) {}
