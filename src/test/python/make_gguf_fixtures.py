#!/usr/bin/env python3
"""Writes the GGUF test checkpoints under src/test/resources/gguf/ (run once; tests never run Python).

Each case directory holds a Hugging Face config.json, `model.gguf` (the tensors as llama.cpp's
converter lays them out: its tensor names, Llama Q/K rows permuted, Gemma norms + 1, NeoX QKV as
[Q; K; V], GPT-2 Conv1D weights transposed and the head written again as `output`) and
`oracle.safetensors`: the same tensors dequantized by gguf-py (llama.cpp's own Python package)
and mapped back to the Hugging Face names and layout with numpy. The Java tests compare QDM's
GGUF reader against the oracle bit for bit, and forward passes on both.

Usage (gguf-py from a llama.cpp checkout; only `gguf.quants` and `GGMLQuantizationType` are used):

    PYTHONPATH=/path/to/llama.cpp/gguf-py python3 src/test/python/make_gguf_fixtures.py

Quantization: gguf-py quantizes F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 from the weights; it
only dequantizes the K-quants, so their blocks are random bytes with the block's float16 scales
set to small fixed values (every code and sub-scale pattern occurs; dequantize is the oracle).
The GGUF container itself is written here from the format specification (version 3,
little-endian, 32-byte alignment).
"""
import json
import os
import zlib
import struct
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "resources", "gguf")
REF = os.path.join(ROOT, "resources", "reference")
ALIGN = 32


# ------------------------------------------------------------------------------- containers

def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        raw = data[a:b]
        if e["dtype"] == "F32":
            v = np.frombuffer(raw, dtype="<f4")
        elif e["dtype"] == "F16":
            v = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif e["dtype"] == "BF16":
            v = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(e["dtype"])
        out[name] = v.reshape(e["shape"]).copy()
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, v in tensors.items():
        b = np.ascontiguousarray(v, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def write_gguf(path, arch, kv, tensors):
    """tensors: list of (name, row-major shape, type id, data bytes)."""
    out = bytearray(b"GGUF") + struct.pack("<IQQ", 3, len(tensors), len(kv) + 1)
    out += gguf_string("general.architecture") + struct.pack("<I", 8) + gguf_string(arch)
    for key, value in kv:
        out += gguf_string(key) + struct.pack("<II", 4, value)  # uint32
    offset = 0
    offsets = []
    for name, shape, qtype, data in tensors:
        offsets.append(offset)
        out += gguf_string(name) + struct.pack("<I", len(shape))
        for d in reversed(shape):
            out += struct.pack("<Q", d)
        out += struct.pack("<IQ", int(qtype), offset)
        offset += (len(data) + ALIGN - 1) // ALIGN * ALIGN
    out += b"\0" * ((ALIGN - len(out) % ALIGN) % ALIGN)
    for (name, shape, qtype, data), off in zip(tensors, offsets):
        out += data
        out += b"\0" * ((ALIGN - len(data) % ALIGN) % ALIGN)
    with open(path, "wb") as f:
        f.write(out)


# ------------------------------------------------------------------------------ quantizing

K_SCALES = {  # (bytes per block, offsets of the float16 scales, their values)
    T.Q2_K: (84, [80, 82], [0.002, 0.001]),
    T.Q3_K: (110, [108], [0.001]),
    T.Q4_K: (144, [0, 2], [1e-4, 1e-4]),
    T.Q5_K: (176, [0, 2], [5e-5, 5e-5]),
    T.Q6_K: (210, [208], [2e-5]),
}


def encode(w, qtype, rng):
    """(gguf bytes, values gguf-py dequantizes them to) of a row-major float32 array."""
    w = np.ascontiguousarray(w, dtype=np.float32)
    if qtype in K_SCALES:
        size, at, values = K_SCALES[qtype]
        blocks = w.size // 256
        b = rng.integers(0, 256, size=(blocks, size), dtype=np.uint8)
        for o, v in zip(at, values):
            b[:, o:o + 2] = np.frombuffer(np.float16(v).tobytes(), dtype=np.uint8)
        q = b.reshape(w.shape[:-1] + (w.shape[-1] // 256 * size,))
    else:
        q = quants.quantize(w, qtype)
    deq = q.astype(np.float32) if qtype == T.F32 else quants.dequantize(q.view(np.uint8), qtype)
    return q.tobytes(), deq.reshape(w.shape).astype(np.float32)


# ------------------------------------------------------------------- converter's transforms

def permute(w, n_head):
    """llama.cpp's LlamaModel.permute (rotate-half rows to interleaved pairs)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, n_head):
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def neox_to_gguf(w, n_head):
    e = w.shape[0] // 3
    v = w.reshape(n_head, 3, e // n_head, *w.shape[1:])
    return np.concatenate([v[:, i].reshape(e, *w.shape[1:]) for i in range(3)], axis=0)


def neox_from_gguf(w, n_head):
    e = w.shape[0] // 3
    v = w.reshape(3, n_head, e // n_head, *w.shape[1:]).swapaxes(0, 1)
    return v.reshape(w.shape)


# ------------------------------------------------------------------------------------ cases

def case(name, config, arch, hf, mapping, types, extra_kv=(), extra=()):
    """mapping: hf name -> (gguf name, to_gguf, from_gguf); types: hf name -> GGML type."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    tensors, oracle = [], {}
    for hf_name, (g_name, to_g, from_g) in mapping.items():
        qtype = types.get(hf_name, T.F32)
        stored = to_g(hf[hf_name])
        data, deq = encode(stored, qtype, rng)
        tensors.append((g_name, stored.shape, qtype, data))
        oracle[hf_name] = from_g(deq)
    for t in extra:
        tensors.append(t)
    layers = config.get("num_hidden_layers", config.get("n_layer"))
    write_gguf(os.path.join(d, "model.gguf"), arch,
               [("%s.block_count" % arch, layers)] + list(extra_kv), tensors)
    write_safetensors(os.path.join(d, "oracle.safetensors"), oracle)
    print(name, sorted({T(t[2]).name for t in tensors}))


def same(w):
    return w


def minus_one(w):
    return w - np.float32(1)


def plus_one(w):
    return w + np.float32(1)


def transpose(w):
    return np.ascontiguousarray(w.T)


def llama_like(model_type, layers, hidden, heads, kv_heads, ff, vocab, rng, bias=False):
    hd = hidden // heads
    hf = {"model.embed_tokens.weight": rng.normal(0, 0.05, (vocab, hidden)),
          "model.norm.weight": 1 + rng.normal(0, 0.1, hidden),
          "lm_head.weight": rng.normal(0, 0.05, (vocab, hidden))}
    for i in range(layers):
        p = "model.layers.%d." % i
        hf[p + "input_layernorm.weight"] = 1 + rng.normal(0, 0.1, hidden)
        hf[p + "post_attention_layernorm.weight"] = 1 + rng.normal(0, 0.1, hidden)
        hf[p + "self_attn.q_proj.weight"] = rng.normal(0, 0.05, (heads * hd, hidden))
        hf[p + "self_attn.k_proj.weight"] = rng.normal(0, 0.05, (kv_heads * hd, hidden))
        hf[p + "self_attn.v_proj.weight"] = rng.normal(0, 0.05, (kv_heads * hd, hidden))
        hf[p + "self_attn.o_proj.weight"] = rng.normal(0, 0.05, (hidden, heads * hd))
        hf[p + "mlp.gate_proj.weight"] = rng.normal(0, 0.05, (ff, hidden))
        hf[p + "mlp.up_proj.weight"] = rng.normal(0, 0.05, (ff, hidden))
        hf[p + "mlp.down_proj.weight"] = rng.normal(0, 0.05, (hidden, ff))
        if bias:
            for t, n in (("q", heads), ("k", kv_heads), ("v", kv_heads)):
                hf[p + "self_attn.%s_proj.bias" % t] = rng.normal(0, 0.05, n * hd)
    hf = {k: np.asarray(v, dtype=np.float32) for k, v in hf.items()}
    config = {"model_type": model_type, "vocab_size": vocab, "hidden_size": hidden,
              "num_hidden_layers": layers, "num_attention_heads": heads,
              "num_key_value_heads": kv_heads, "head_dim": hd, "intermediate_size": ff,
              "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "max_position_embeddings": 64,
              "tie_word_embeddings": False, "hidden_act": "silu"}
    return config, hf


def llama_mapping(hf, layers, heads, kv_heads, permuted=True):
    q_to = (lambda w: permute(w, heads)) if permuted else same
    q_from = (lambda w: unpermute(w, heads)) if permuted else same
    k_to = (lambda w: permute(w, kv_heads)) if permuted else same
    k_from = (lambda w: unpermute(w, kv_heads)) if permuted else same
    m = {"model.embed_tokens.weight": ("token_embd.weight", same, same),
         "model.norm.weight": ("output_norm.weight", same, same)}
    if "lm_head.weight" in hf:
        m["lm_head.weight"] = ("output.weight", same, same)
    for i in range(layers):
        p, b = "model.layers.%d." % i, "blk.%d." % i
        m[p + "input_layernorm.weight"] = (b + "attn_norm.weight", same, same)
        m[p + "post_attention_layernorm.weight"] = (b + "ffn_norm.weight", same, same)
        m[p + "self_attn.q_proj.weight"] = (b + "attn_q.weight", q_to, q_from)
        m[p + "self_attn.k_proj.weight"] = (b + "attn_k.weight", k_to, k_from)
        m[p + "self_attn.v_proj.weight"] = (b + "attn_v.weight", same, same)
        m[p + "self_attn.o_proj.weight"] = (b + "attn_output.weight", same, same)
        m[p + "mlp.gate_proj.weight"] = (b + "ffn_gate.weight", same, same)
        m[p + "mlp.up_proj.weight"] = (b + "ffn_up.weight", same, same)
        m[p + "mlp.down_proj.weight"] = (b + "ffn_down.weight", same, same)
        for t, to, fr in (("q", q_to, q_from), ("k", k_to, k_from), ("v", same, same)):
            if p + "self_attn.%s_proj.bias" % t in hf:
                m[p + "self_attn.%s_proj.bias" % t] = (b + "attn_%s.bias" % t, to, fr)
    return m


def main():
    rng = np.random.default_rng(2606)

    # Llama with every block type QDM reads, on rows of 256 (the K-quant super-block).
    config, hf = llama_like("llama", 2, 256, 4, 2, 256, 256, rng)
    types = {}
    order = [T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1,
             T.F16, T.BF16, T.Q4_K, T.Q6_K, T.Q5_K, T.Q8_0]
    linear = [n for n in hf if n.endswith("_proj.weight")]
    for n, t in zip(linear, order):
        types[n] = t
    types["model.embed_tokens.weight"] = T.Q6_K
    types["lm_head.weight"] = T.Q8_0
    rope = np.arange(32, dtype=np.float32) + 1  # rope_freqs, which QDM computes itself
    case("llama-kquants", config, "llama", hf, llama_mapping(hf, 2, 4, 2), types,
         extra=[("rope_freqs.weight", (32,), T.F32, rope.tobytes())])

    # Mistral (converted as Llama) and Qwen2 (not permuted, q/k/v biases), rows of 64.
    config, hf = llama_like("mistral", 2, 64, 4, 2, 96, 128, rng)
    config["sliding_window"] = 4096
    case("mistral", config, "llama", hf, llama_mapping(hf, 2, 4, 2),
         {n: T.Q8_0 for n in hf if n.endswith("_proj.weight")})
    config, hf = llama_like("qwen2", 2, 64, 4, 2, 96, 128, rng, bias=True)
    config["use_sliding_window"] = False
    case("qwen2", config, "qwen2", hf, llama_mapping(hf, 2, 4, 2, permuted=False),
         {n: T.Q5_1 for n in hf if n.endswith("_proj.weight")})

    # Gemma: norms stored + 1, tied head (no output tensor).
    config, hf = llama_like("gemma", 2, 64, 4, 1, 96, 128, rng)
    del hf["lm_head.weight"]
    config.update({"hidden_act": "gelu_pytorch_tanh", "tie_word_embeddings": True})
    m = llama_mapping(hf, 2, 4, 1, permuted=False)
    for k, (g, to, fr) in list(m.items()):
        if k.endswith("norm.weight"):
            m[k] = (g, plus_one, minus_one)
    case("gemma", config, "gemma", hf, m, {n: T.Q4_0 for n in hf if n.endswith("_proj.weight")})

    # Gemma-2, GPT-NeoX and GPT-2 from the shared Hugging Face references.
    hf = read_safetensors(os.path.join(REF, "gemma2", "model.safetensors"))
    config = json.load(open(os.path.join(REF, "gemma2", "config.json")))
    layers = config["num_hidden_layers"]
    m = {"model.embed_tokens.weight": ("token_embd.weight", same, same),
         "model.norm.weight": ("output_norm.weight", plus_one, minus_one)}
    names = {"input_layernorm": "attn_norm", "post_attention_layernorm": "post_attention_norm",
             "pre_feedforward_layernorm": "ffn_norm", "post_feedforward_layernorm": "post_ffw_norm",
             "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down"}
    for i in range(layers):
        for h, g in names.items():
            norm = "norm" in h
            m["model.layers.%d.%s.weight" % (i, h)] = ("blk.%d.%s.weight" % (i, g),
                                                        plus_one if norm else same,
                                                        minus_one if norm else same)
    case("gemma2", config, "gemma2", hf, m,
         {n: T.Q8_0 for n in hf if n.endswith("proj.weight")} | {"model.embed_tokens.weight": T.F16})

    hf = read_safetensors(os.path.join(REF, "neox", "model.safetensors"))
    config = json.load(open(os.path.join(REF, "neox", "config.json")))
    heads = config["num_attention_heads"]
    m = {"gpt_neox.embed_in.weight": ("token_embd.weight", same, same),
         "gpt_neox.final_layer_norm.weight": ("output_norm.weight", same, same),
         "gpt_neox.final_layer_norm.bias": ("output_norm.bias", same, same),
         "embed_out.weight": ("output.weight", same, same)}
    names = {"input_layernorm": "attn_norm", "attention.dense": "attn_output",
             "post_attention_layernorm": "ffn_norm", "mlp.dense_h_to_4h": "ffn_up",
             "mlp.dense_4h_to_h": "ffn_down"}
    for i in range(config["num_hidden_layers"]):
        for part in ("weight", "bias"):
            for h, g in names.items():
                m["gpt_neox.layers.%d.%s.%s" % (i, h, part)] = ("blk.%d.%s.%s" % (i, g, part), same, same)
            m["gpt_neox.layers.%d.attention.query_key_value.%s" % (i, part)] = (
                "blk.%d.attn_qkv.%s" % (i, part), lambda w: neox_to_gguf(w, heads),
                lambda w: neox_from_gguf(w, heads))
    hf = {k: v for k, v in hf.items() if k in m}
    case("neox", config, "gptneox", hf, m,
         {n: T.Q5_0 for n in hf if n.endswith("weight") and hf[n].ndim == 2 and "embed" not in n})

    hf = read_safetensors(os.path.join(REF, "gpt2", "model.safetensors"))
    config = json.load(open(os.path.join(REF, "gpt2", "config.json")))
    hf = {(k if k.startswith("transformer.") or k == "lm_head.weight" else "transformer." + k): v
          for k, v in hf.items()}
    m = {"transformer.wte.weight": ("token_embd.weight", same, same),
         "transformer.wpe.weight": ("position_embd.weight", same, same),
         "transformer.ln_f.weight": ("output_norm.weight", same, same),
         "transformer.ln_f.bias": ("output_norm.bias", same, same)}
    names = {"ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output",
             "ln_2": "ffn_norm", "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"}
    for i in range(config["n_layer"]):
        for h, g in names.items():
            conv = not h.startswith("ln")
            m["transformer.h.%d.%s.weight" % (i, h)] = ("blk.%d.%s.weight" % (i, g),
                                                         transpose if conv else same,
                                                         transpose if conv else same)
            m["transformer.h.%d.%s.bias" % (i, h)] = ("blk.%d.%s.bias" % (i, g), same, same)
    hf = {k: v for k, v in hf.items() if k in m}
    # the converter writes the tied head again as `output`; here quantized unlike token_embd
    hf["lm_head.weight"] = hf["transformer.wte.weight"]
    m["lm_head.weight"] = ("output.weight", same, same)
    case("gpt2", config, "gpt2", hf, m,
         {n: T.Q8_0 for n in hf if ".h." in n and n.endswith("weight") and hf[n].ndim == 2}
         | {"transformer.wte.weight": T.F16, "lm_head.weight": T.Q8_0})

    # An I-quant tensor (IQ4_NL, type 20: 32 elements in 18 bytes), which QDM refuses.
    config, hf = llama_like("llama", 1, 64, 4, 2, 96, 128, rng)
    d = os.path.join(OUT, "iquant")
    os.makedirs(d, exist_ok=True)
    json.dump(config, open(os.path.join(d, "config.json"), "w"), indent=2)
    tensors = []
    for hf_name, (g, to, fr) in llama_mapping(hf, 1, 4, 2).items():
        w = to(hf[hf_name])
        if g == "blk.0.attn_k.weight":
            tensors.append((g, w.shape, 20, bytes(w.size // 32 * 18)))
        else:
            tensors.append((g, w.shape, T.F32, w.astype("<f4").tobytes()))
    write_gguf(os.path.join(d, "model.gguf"), "llama", [("llama.block_count", 1)], tensors)
    print("iquant")


if __name__ == "__main__":
    sys.exit(main())
