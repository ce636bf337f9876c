#!/usr/bin/env python3
"""Independent check of `jobs/qdm import llama2c`: converts a llama2.c checkpoint with numpy
(the Q/K permutation written as Hugging Face's Llama conversion states it: view as
[heads, head_size/2, 2, in], swap the two middle axes) and compares every tensor of the
imported model.safetensors bit for bit. Run once by hand (tests never need Python):

    python3 src/test/python/check_llama2c_import.py stories15M.bin assets/demo/stories15M
"""
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", (name, e["dtype"])
        s, t = e["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + s : 8 + n + t], dtype="<f4").reshape(e["shape"])
    return out


def permute(w, heads):
    rows, cols = w.shape
    return w.reshape(heads, rows // heads // 2, 2, cols).transpose(0, 2, 1, 3).reshape(rows, cols)


def main(checkpoint, model_dir):
    raw = np.fromfile(checkpoint, dtype="<i4", count=7)
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = (int(x) for x in raw)
    shared = vocab > 0
    vocab = abs(vocab)
    head = dim // heads
    kv = kv_heads * head
    f = np.fromfile(checkpoint, dtype="<f4", offset=28)
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        a = f[pos : pos + n].reshape(shape)
        pos += n
        return a

    emb = take(vocab, dim)
    rms_att = take(layers, dim)
    wq = take(layers, dim, dim)
    wk = take(layers, kv, dim)
    wv = take(layers, kv, dim)
    wo = take(layers, dim, dim)
    rms_ffn = take(layers, dim)
    w1 = take(layers, hidden, dim)
    w2 = take(layers, dim, hidden)
    w3 = take(layers, hidden, dim)
    rms_final = take(dim)
    take(seq_len, head)  # freq_cis real and imaginary halves
    expected = {"model.embed_tokens.weight": emb, "model.norm.weight": rms_final}
    if not shared:
        expected["lm_head.weight"] = take(vocab, dim)
    assert pos == f.size, (pos, f.size)
    for i in range(layers):
        p = f"model.layers.{i}."
        expected[p + "input_layernorm.weight"] = rms_att[i]
        expected[p + "self_attn.q_proj.weight"] = permute(wq[i], heads)
        expected[p + "self_attn.k_proj.weight"] = permute(wk[i], kv_heads)
        expected[p + "self_attn.v_proj.weight"] = wv[i]
        expected[p + "self_attn.o_proj.weight"] = wo[i]
        expected[p + "post_attention_layernorm.weight"] = rms_ffn[i]
        expected[p + "mlp.gate_proj.weight"] = w1[i]
        expected[p + "mlp.up_proj.weight"] = w3[i]
        expected[p + "mlp.down_proj.weight"] = w2[i]
    got = read_safetensors(f"{model_dir}/model.safetensors")
    assert sorted(got) == sorted(expected), set(got) ^ set(expected)
    for name, a in expected.items():
        b = got[name]
        assert a.shape == b.shape and a.tobytes() == b.tobytes(), name
    print(f"{len(expected)} tensors bit-identical to the numpy conversion of {checkpoint}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
