#!/usr/bin/env python3
"""Writes Tests/Fixtures/quants/: packed blocks of each GGML type Trident decodes beyond
q8_0/q4_0/q4_1, with their float32 dequantization by the `gguf` Python package
(gguf.quants, the reference), for TridentKernelsTests/QuantFixtureTests.

Per type T (lower case, e.g. q4_k):
  random-T.bin   packed blocks; q5_0/q5_1 from gguf.quants.quantize of random floats
                 (random-T.input.f32 holds those floats), the others random bytes whose
                 f16 scale fields are replaced by finite values of magnitude 2^-10..2^-5
                 (minimum fields positive), plus one all-0xFF and one all-0x00 block body
  random-T.f32   gguf.quants.dequantize of random-T.bin, little-endian float32
  real-T.bin/.f32  (with --model-dir) blocks cut from a llama-quantize output: the first
                 and a middle block of the first tensor of type T in each file given

Usage:
  python3 scripts/reference/make_quant_fixtures.py Tests/Fixtures/quants [GGUF ...]
"""
import sys, os
import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf.quants import quantize, dequantize

TYPES = {"q5_0": Q.Q5_0, "q5_1": Q.Q5_1, "iq4_nl": Q.IQ4_NL, "q2_k": Q.Q2_K, "q3_k": Q.Q3_K,
         "q4_k": Q.Q4_K, "q5_k": Q.Q5_K, "q6_k": Q.Q6_K, "iq4_xs": Q.IQ4_XS}
# byte offsets of the f16 scale fields and of the f16 (positive) minimum fields per block
HALVES = {"q5_0": ([0], []), "q5_1": ([0], [2]), "iq4_nl": ([0], []), "q2_k": ([80], [82]),
          "q3_k": ([108], []), "q4_k": ([0], [2]), "q5_k": ([0], [2]), "q6_k": ([208], []),
          "iq4_xs": ([0], [])}


def random_blocks(name, qtype, rng):
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    count = 2048 // block if block == 256 else 64  # elements: 2048 either way
    if name in ("q5_0", "q5_1"):
        x = rng.standard_normal(count * block).astype(np.float32) * 0.7
        x[:block] = 0                       # an all-zero block
        x[block:2 * block] *= 1000          # a large-magnitude block
        return quantize(x.reshape(1, -1), qtype).reshape(-1), x
    raw = rng.integers(0, 256, size=(count, size), dtype=np.uint8)
    raw[0, :] = 0xFF
    raw[1, :] = 0x00
    scales, mins = HALVES[name]
    for b in range(count):
        for off, positive in [(o, False) for o in scales] + [(o, True) for o in mins]:
            mag = np.float16(2.0 ** rng.uniform(-10, -5))
            v = mag if positive or rng.random() < 0.5 else -mag
            raw[b, off:off + 2] = np.frombuffer(np.float16(v).tobytes(), dtype=np.uint8)
    return raw.reshape(-1), None


def write(out_dir, stem, raw, qtype):
    values = dequantize(raw, qtype).astype("<f4")
    assert np.all(np.isfinite(values)), stem
    raw.astype(np.uint8).tofile(os.path.join(out_dir, stem + ".bin"))
    values.tofile(os.path.join(out_dir, stem + ".f32"))


def real_blocks(paths, wanted):
    """{type name: packed bytes} of two super-blocks (or 16 small blocks) per file."""
    found = {}
    for path in paths:
        reader = gguf.GGUFReader(path)
        for t in reader.tensors:
            names = [n for n, q in TYPES.items() if q == t.tensor_type]
            if not names or names[0] in found or names[0] not in wanted:
                continue
            block, size = gguf.GGML_QUANT_SIZES[t.tensor_type]
            n = 2 if block == 256 else 16
            data = np.asarray(t.data).reshape(-1)
            middle = (len(data) // size // 2) * size
            found[names[0]] = np.concatenate([data[:n * size], data[middle:middle + n * size]])
    return found


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(20261201)
    for name, qtype in TYPES.items():
        raw, inputs = random_blocks(name, qtype, rng)
        write(out_dir, "random-" + name, raw, qtype)
        if inputs is not None:
            inputs.astype("<f4").tofile(os.path.join(out_dir, f"random-{name}.input.f32"))
    for name, raw in real_blocks(sys.argv[2:], set(TYPES)).items():
        write(out_dir, "real-" + name, raw, TYPES[name])
        print("real", name, len(raw), "bytes")


if __name__ == "__main__":
    main()
