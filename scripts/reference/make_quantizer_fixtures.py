#!/usr/bin/env python3
"""Fixtures for `trident quantize` (Tests/Fixtures/quants/, read by
TridentKernelsTests/QuantizerFixtureTests.swift and TridentFormatsTests/QuantizationMixTests.swift).

1. `smollm2-q4_k_m-types.txt`: name, ne and type of every tensor of llama.cpp's own Q4_K_M of
   SmolLM2 (`llama-quantize --allow-requantize SmolLM2...Q4_1.gguf OUT Q4_K_M`), one per line:
   the mix table Trident's rules must reproduce, fallbacks included.
2. `quantizer-input.f32`: 16 rows of 256 floats (normal values with a few outliers and an
   all-zero sub-block, numpy seed 2024), written as the F32 tensor `blk.0.ffn_up.weight` of a
   minimal llama-architecture GGUF (temporary). Each type T is written by
   `trident quantize IN OUT --type T`, and gguf-py (`gguf.quants.dequantize`) decodes OUT's
   tensor into `quantizer-T.gguf-py.f32`.

  python3 scripts/reference/make_quantizer_fixtures.py --trident .build/release/trident \
      --llama-quantized /tmp/smol-llama-q4_k_m.gguf --out Tests/Fixtures/quants
"""
import argparse, os, subprocess, tempfile
import numpy as np
import gguf

TYPES = ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q5_k", "q6_k"]


def type_table(path, out):
    r = gguf.GGUFReader(path)
    with open(out, "w") as f:
        for t in r.tensors:
            f.write(f"{t.name} {','.join(str(int(n)) for n in t.shape)} {t.tensor_type.name}\n")


def input_gguf(path):
    rng = np.random.default_rng(2024)
    w = rng.standard_normal((16, 256)).astype(np.float32)
    w[3, 17] = 6.0; w[9, 200] = -5.5; w[12, :32] = 0.0  # outliers and an all-zero sub-block
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_block_count(1)
    writer.add_tensor("blk.0.ffn_up.weight", w)
    writer.write_header_to_file(); writer.write_kv_data_to_file(); writer.write_tensors_to_file(); writer.close()
    return w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trident", required=True)
    ap.add_argument("--llama-quantized", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    type_table(a.llama_quantized, os.path.join(a.out, "smollm2-q4_k_m-types.txt"))
    tmp = tempfile.mkdtemp()
    source = os.path.join(tmp, "quantizer-input.gguf")
    input_gguf(source).reshape(-1).tofile(os.path.join(a.out, "quantizer-input.f32"))
    for t in TYPES:
        out = os.path.join(tmp, f"{t}.gguf")
        subprocess.run([a.trident, "quantize", source, out, "--type", t, "--quiet"], check=True)
        tensor = gguf.GGUFReader(out).tensors[0]
        values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        values.reshape(-1).tofile(os.path.join(a.out, f"quantizer-{t}.gguf-py.f32"))
        print(t, tensor.tensor_type.name, values.shape)


if __name__ == "__main__":
    main()
