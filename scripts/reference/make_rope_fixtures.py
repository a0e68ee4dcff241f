#!/usr/bin/env python3
"""
make_rope_fixtures.py -- tiny random llama models with RoPE scaling (llama3 per-pair factors,
linear) and with q/k/v/o and MLP biases, as Hugging Face directories and as GGUF files laid
out as llama.cpp's convert_hf_to_gguf.py lays them out (llama3: `rope_freqs.weight`; linear:
`llama.rope.scaling.type/factor`), with logits from an independent float64 numpy reference,
cross-checked against transformers in float32 on the HF directory.

    python scripts/reference/make_rope_fixtures.py --out Tests/Fixtures/architectures
(run from the repository root; it imports scripts/reference/make_model_fixtures.py)
"""
import argparse, json, math, os, sys
import numpy as np
import torch
import gguf
import transformers as tf

sys.path.insert(0, os.path.join(os.getcwd(), "scripts", "reference"))
import make_model_fixtures as base  # noqa: E402

VOCAB = 256
TOKENS = [int(t) for t in np.random.default_rng(7).integers(0, VOCAB, 48)]
COMMON = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, vocab_size=VOCAB, rms_norm_eps=1e-5, tie_word_embeddings=False)
LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 8.0,
          "original_max_position_embeddings": 1024}

SPECS = {
    # name: (config kwargs, config.json rewrite (old-style rope_scaling as Llama 3.1 ships it) or None)
    "tiny-llama3rope": (dict(COMMON, max_position_embeddings=8192, rope_theta=500000.0,
                             rope_parameters=dict(LLAMA3, rope_theta=500000.0)), "old"),
    "tiny-llama-linear": (dict(COMMON, max_position_embeddings=512,
                               rope_parameters={"rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0}), None),
    "tiny-llama-bias": (dict(COMMON, max_position_embeddings=256, rope_theta=10000.0,
                             attention_bias=True, mlp_bias=True), None),
}


def inverse_frequencies(c, d):
    """float64 inverse frequencies, scaled as transformers' rope init functions scale them."""
    p = c.get("rope_scaling") or c.get("rope_parameters") or {}
    theta = p.get("rope_theta", c.get("rope_theta", 10000.0))
    inv = 1.0 / theta ** (np.arange(0, d, 2, dtype=np.float64) / d)
    kind = p.get("rope_type", p.get("type", "default"))
    if kind == "linear":
        return inv / p["factor"]
    if kind == "llama3":
        factor, low, high = p["factor"], p["low_freq_factor"], p["high_freq_factor"]
        old = p["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        out = np.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        medium = ~(wavelen < old / high) & ~(wavelen > old / low)
        return np.where(medium, (1 - smooth) * out / factor + smooth * out, out)
    return inv


def rope(x, inv):
    T, _, d = x.shape
    angles = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]
    cos = np.concatenate([np.cos(angles)] * 2, axis=-1)[:, None, :]
    sin = np.concatenate([np.sin(angles)] * 2, axis=-1)[:, None, :]
    return x * cos + np.concatenate([-x[..., d // 2:], x[..., : d // 2]], axis=-1) * sin


def reference(w, c, tokens):
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
    d = c["hidden_size"] // H
    inv, eps, T = inverse_frequencies(c, d), c["rms_norm_eps"], len(tokens)
    def lin(x, name):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y
    x = w["model.embed_tokens.weight"][tokens]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = base.rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = rope(lin(h, p + "self_attn.q_proj").reshape(T, H, d), inv)
        k = rope(lin(h, p + "self_attn.k_proj").reshape(T, KV, d), inv)
        v = lin(h, p + "self_attn.v_proj").reshape(T, KV, d)
        x = x + lin(base.attention(q, k, v).reshape(T, H * d), p + "self_attn.o_proj")
        h = base.rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        x = x + lin(base.silu(lin(h, p + "mlp.gate_proj")) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    return base.rms_norm(x, w["model.norm.weight"], eps) @ w["lm_head.weight"].T


def llama3_factors(c, d):
    """rope_freqs.weight as convert_hf_to_gguf.py computes it (its divisor form)."""
    p = c["rope_scaling"]
    theta = c["rope_theta"]
    freqs = 1.0 / (theta ** (np.arange(0, d, 2, dtype=np.float64) / d))
    factor, low, high, old = p["factor"], p["low_freq_factor"], p["high_freq_factor"], p["original_max_position_embeddings"]
    out = []
    for f in freqs:
        wavelen = 2 * math.pi / f
        if wavelen < old / high:
            out.append(1.0)
        elif wavelen > old / low:
            out.append(factor)
        else:
            s = (old / wavelen - low) / (high - low)
            out.append(1 / ((1 - s) / factor + s))
    return np.array(out, dtype=np.float32)


def write_gguf(path, w, c):
    """make_model_fixtures.write_gguf plus the scaling llama.cpp's converter writes."""
    base.write_gguf(path, "llama", w, dict(c, rope_theta=c.get("rope_theta") or c["rope_parameters"]["rope_theta"]), False)
    scaling = c.get("rope_scaling") or c.get("rope_parameters") or {}
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind not in ("llama3", "linear"):
        return
    # Re-write with the extras (gguf-py writes in one pass).
    reader = gguf.GGUFReader(path)
    writer = gguf.GGUFWriter(path + ".tmp", "llama")
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        value = field.contents()
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            writer.add_array(field.name, value)
        else:
            writer.add_key_value(field.name, value, vtype)
    d = c["hidden_size"] // c["num_attention_heads"]
    if kind == "llama3":
        writer.add_tensor("rope_freqs.weight", llama3_factors(c, d))
    else:
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(scaling["factor"])
    for t in reader.tensors:
        writer.add_tensor(t.name, np.array(t.data).reshape(list(reversed([int(n) for n in t.shape]))))
    writer.write_header_to_file(); writer.write_kv_data_to_file(); writer.write_tensors_to_file(); writer.close()
    os.replace(path + ".tmp", path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    for seed, (name, (kwargs, style)) in enumerate(SPECS.items()):
        model = base.make_model("llama", torch.float32, kwargs, 100 + seed)
        directory = os.path.join(args.out, f"{name}-hf")
        base.save_hf(model, directory, 1)
        path = os.path.join(directory, "config.json")
        with open(path) as f:
            c = json.load(f)
        if style == "old":   # as Llama 3.1's config.json: rope_theta + rope_scaling
            p = c.pop("rope_parameters")
            c["rope_theta"] = p.pop("rope_theta")
            c["rope_scaling"] = p
            with open(path, "w") as f:
                json.dump(c, f, indent=2)
        w = base.read_hf(directory)
        ref = reference(w, c, TOKENS)
        check = tf.AutoModelForCausalLM.from_pretrained(directory, torch_dtype=torch.float32).eval()
        with torch.no_grad():
            theirs = check(torch.tensor([TOKENS])).logits[0].double().numpy()
        diff = float(np.abs(theirs - ref).max())
        assert diff < 1e-3, f"{name}: transformers differs from the float64 reference by {diff}"
        # The same weights with plain RoPE: how much the scaling moves the logits.
        plain = reference(w, {k: v for k, v in c.items() if k not in ("rope_scaling",)} | (
            {"rope_parameters": {"rope_theta": 10000.0}} if "rope_parameters" in c else {}), TOKENS)
        write_gguf(os.path.join(args.out, f"{name}.gguf"), w, c)
        ref.astype("<f4").tofile(os.path.join(args.out, f"{name}.logits.bin"))
        with open(os.path.join(args.out, f"{name}.json"), "w") as f:
            json.dump({"tokens": TOKENS, "vocabulary": VOCAB, "logits": f"{name}.logits.bin",
                       "transformers_max_abs_diff": diff, "max_abs_logit": float(np.abs(ref).max()),
                       "unscaled_max_abs_diff": float(np.abs(plain - ref).max())}, f, indent=1)
        print(f"{name}: transformers f32 vs float64 reference {diff:.2e}; |logits| max {np.abs(ref).max():.3f}; "
              f"plain RoPE moves logits by {np.abs(plain - ref).max():.3f}")


if __name__ == "__main__":
    main()
