package qdm.model;

import ai.djl.ndarray.NDArray;
import java.util.Locale;
import java.util.function.UnaryOperator;

/** The MLP activations Hugging Face configs name ({@code hidden_act}). */
public enum Nonlinearity {
  /** Exact erf GELU. */
  GELU(Ops::gelu),
  /** Tanh-approximated GELU. */
  GELU_TANH(Ops::geluTanh),
  /** SiLU (swish), the gate of Llama-family MLPs. */
  SILU(Ops::silu);

  private final UnaryOperator<NDArray> fn;

  Nonlinearity(UnaryOperator<NDArray> fn) {
    this.fn = fn;
  }

  public NDArray apply(NDArray x) {
    return fn.apply(x);
  }

  /** Maps a Hugging Face activation name; null if QDM does not implement it. */
  public static Nonlinearity fromHf(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "gelu" -> GELU;
      case "gelu_pytorch_tanh", "gelu_new", "gelu_fast", "gelu_tanh" -> GELU_TANH;
      case "silu", "swish" -> SILU;
      default -> null;
    };
  }
}
