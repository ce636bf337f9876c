"""Writes the small .npz fixtures of the SAE and npz tests with NumPy (run from this folder).

Every value comes from fixture_value(i, seed), an integer hash scaled by 1/4096, which is exact
in float16/32/64 and which the Java tests recompute (qdm.sae.Fixtures.value), so the tests check
the reader against NumPy's writer without trusting either. Re-running gives identical files
(zip timestamps aside).

    python3 make_fixtures.py
"""
import io
import os
import zipfile

import numpy as np


def fixture_value(i, seed):
    h = (i * 2654435761 + seed * 97531) & 0xFFFFFFFF
    h ^= h >> 15
    return ((h % 2001) - 1000) / 4096.0


def values(shape, seed, dtype=np.float32):
    n = int(np.prod(shape)) if shape else 1
    v = np.array([fixture_value(i, seed) for i in range(n)], dtype=np.float64)
    return v.reshape(shape).astype(dtype)


D_IN, D_SAE = 64, 256


def gemma_scope_params():
    # Gemma Scope's keys and shapes; thresholds of both signs exercise the ReLU in JumpReLU
    return {
        "W_enc": values((D_IN, D_SAE), 1),
        "W_dec": values((D_SAE, D_IN), 2),
        "b_enc": values((D_SAE,), 3),
        "b_dec": values((D_IN,), 4),
        "threshold": values((D_SAE,), 5),
    }


def write(path, save, **arrays):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save(path, **arrays)


def main():
    write("gemmascope/layer_1/width_256/params.npz", np.savez, **gemma_scope_params())
    write("gemmascope-compressed/layer_1/width_256/params.npz", np.savez_compressed,
          **gemma_scope_params())

    typed = {
        "f32": values((3, 4), 11, np.float32),
        "f64": values((2, 3), 12, np.float64),
        "f16": values((5,), 13, np.float16),
        "i64": np.arange(-3, 3, dtype=np.int64).reshape(2, 3),
        "i32": np.arange(4, dtype=np.int32),
        "u8": np.array([0, 7, 255], dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "scalar": np.float32(0.5),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }
    write("npz/dtypes.npz", np.savez, **typed)
    write("npz/dtypes-compressed.npz", np.savez_compressed, **typed)
    write("npz/fortran.npz", np.savez, a=np.asfortranarray(values((3, 4), 21)))
    write("npz/bigendian.npz", np.savez, a=values((4,), 22).astype(">f4"))
    write("npz/complex.npz", np.savez, a=np.zeros(2, dtype=np.complex64))

    # .npy format versions 2.0 and 3.0 (4-byte header length), written member by member
    with zipfile.ZipFile("npz/versions.npz", "w") as z:
        for name, version in (("v1", (1, 0)), ("v2", (2, 0)), ("v3", (3, 0))):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, values((2, 2), 31), version=version)
            z.writestr(name + ".npy", buf.getvalue())

    # zip64 end records and central directory extras, as archives over 4 GiB have them
    limit = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 1
    try:
        with zipfile.ZipFile("npz/zip64.npz", "w", allowZip64=True) as z:
            for name, seed in (("a", 41), ("b", 42)):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, values((3, 5), seed))
                z.writestr(name + ".npy", buf.getvalue())
    finally:
        zipfile.ZIP64_LIMIT = limit

    # a compression method QDM does not read (bzip2)
    with zipfile.ZipFile("npz/bzip2.npz", "w", compression=zipfile.ZIP_BZIP2) as z:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, values((4,), 51))
        z.writestr("a.npy", buf.getvalue())


if __name__ == "__main__":
    main()
