#!/usr/bin/env python3
"""Tiny random Llama models in llama.cpp's K-quant mixes, with float64 oracle fixtures, for
TridentModelTests/KQuantModelTests (and blocks for make_quant_fixtures.py).

Builds the oracle's tiny byte-vocabulary Llama (make_fixtures.py) at super-block-friendly
widths (2 layers, dim 256, 4 heads / 2 KV heads, ffn 512, vocab 256, seed 4321) in F32,
quantizes it with llama.cpp's llama-quantize into each requested mix, and for each mix writes
  Tests/Fixtures/tiny-llama-256-<mix>.gguf                       (the quantized model)
  Tests/Fixtures/oracle/tiny256-<mix>.hello.{json,last.f32,all.f32}
(the llama_ref.py float64 forward pass over the dequantized weights: logits of every prompt
position, 16 greedy tokens with the top-2 logit gap at each step).

  python3 scripts/reference/make_kquant_tiny.py --oracle /work/shared/tools/oracle \
      --llama-quantize /work/refs/llama.cpp/build/bin/llama-quantize --out Tests/Fixtures \
      Q4_K_M Q2_K
"""
import argparse, json, os, subprocess, sys, tempfile, hashlib
import numpy as np

PROMPT = "Hello, tiny llama! 123"


def greedy(m, ids, n):
    seq, out, gaps = list(ids), [], []
    for _ in range(n):
        logits = m.forward(seq, last_only=True)
        order = np.argsort(-logits, kind="stable")
        out.append(int(order[0]))
        gaps.append(float(logits[order[0]] - logits[order[1]]))
        seq.append(int(order[0]))
    return out, gaps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--llama-quantize", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("mixes", nargs="+")
    a = ap.parse_args()
    sys.path.insert(0, a.oracle)
    import make_fixtures, llama_ref
    make_fixtures.TINY.update(n_layer=2, n_embd=256, n_head=4, n_head_kv=2, n_ff=512, n_vocab=256)
    tmp = tempfile.mkdtemp()
    f32 = os.path.join(tmp, "tiny-256-f32.gguf")
    make_fixtures.write_tiny(f32, "f32", make_fixtures.tiny_weights(seed=4321))
    os.makedirs(os.path.join(a.out, "oracle"), exist_ok=True)
    for mix in a.mixes:
        name = mix.lower()
        path = os.path.join(a.out, f"tiny-llama-256-{name}.gguf")
        subprocess.run([a.llama_quantize, f32, path, mix], check=True, capture_output=True)
        m = llama_ref.LlamaRef(path, verbose=False)
        ids = list(PROMPT.encode("utf-8"))
        logits = m.forward(ids).astype(np.float32)           # (T, V)
        stem = f"tiny256-{name}.hello"
        logits[-1].astype("<f4").tofile(os.path.join(a.out, "oracle", stem + ".last.f32"))
        logits.astype("<f4").tofile(os.path.join(a.out, "oracle", stem + ".all.f32"))
        tokens, gaps = greedy(m, ids, 16)
        fx = {"prompt": PROMPT, "tokens": ids, "greedy": tokens,
              "greedy_text": bytes(tokens).decode("utf-8", "replace"), "greedy_top2_gap": gaps,
              "argmax_per_position": [int(i) for i in logits.argmax(axis=1)],
              "model_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
              "tensor_types": {k: v[0] for k, v in m.tensor_info.items()},
              "last_logits": stem + ".last.f32", "all_logits": stem + ".all.f32",
              "all_logits_shape": list(logits.shape)}
        with open(os.path.join(a.out, "oracle", stem + ".json"), "w") as f:
            json.dump(fx, f, indent=1)
        types = sorted(set(fx["tensor_types"].values()))
        print(mix, os.path.getsize(path), "bytes, types", types, "greedy", tokens, "min gap", min(gaps))


if __name__ == "__main__":
    main()
