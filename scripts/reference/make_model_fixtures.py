#!/usr/bin/env python3
"""
make_model_fixtures.py -- tiny random models of each architecture Trident runs (llama, mistral,
qwen2, gpt2), written as Hugging Face directories (config.json + safetensors, one sharded) and
as GGUF files laid out as llama.cpp's convert_hf_to_gguf.py lays them out, with logits from an
independent float64 numpy reference (and a cross-check against `transformers` in float32).

    /work/refs/venv/bin/python scripts/reference/make_model_fixtures.py --out Tests/Fixtures/architectures

Each model <name> gives:
  <name>-hf/            config.json, model.safetensors (or shards + model.safetensors.index.json)
  <name>.gguf           the same weights (F32, or F16 where the HF copy is F16)
  <name>.json           {"tokens": [...], "logits": "<name>.logits.bin", "transformers_max_abs_diff": x}
  <name>.logits.bin     float32 little-endian [tokens, vocab]: the float64 reference, every position
Nothing in the Swift tests runs Python: only these outputs are committed.
"""
import argparse, json, os, shutil
import numpy as np
import torch
import gguf
from safetensors.numpy import load_file
import transformers as tf

VOCAB, HIDDEN, LAYERS, HEADS, KV_HEADS = 256, 64, 2, 4, 2
TOKENS = [1, 17, 200, 5, 99, 42, 255, 0, 128, 64, 33, 7, 190, 3]

SPECS = {
    # name: (config class, model class, kwargs, torch dtype, shards)
    "tiny-llama": ("llama", torch.float32, 1, dict(
        hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
        num_key_value_heads=KV_HEADS, vocab_size=VOCAB, max_position_embeddings=128, rms_norm_eps=1e-5,
        rope_theta=10000.0, tie_word_embeddings=False)),
    "tiny-mistral": ("mistral", torch.float16, 1, dict(
        hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
        num_key_value_heads=KV_HEADS, vocab_size=VOCAB, max_position_embeddings=256, sliding_window=64,
        rms_norm_eps=1e-5, rope_theta=100000.0, tie_word_embeddings=False)),
    "tiny-qwen2": ("qwen2", torch.bfloat16, 3, dict(
        hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
        num_key_value_heads=KV_HEADS, vocab_size=VOCAB, max_position_embeddings=128, rms_norm_eps=1e-6,
        rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False)),
    "tiny-gpt2": ("gpt2", torch.float32, 1, dict(
        n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS, n_positions=64, vocab_size=VOCAB,
        layer_norm_epsilon=1e-5, activation_function="gelu_new", tie_word_embeddings=True)),
}


def make_model(kind, dtype, kwargs, seed):
    config = tf.AutoConfig.for_model(kind, **kwargs)
    torch.manual_seed(seed)
    model = tf.AutoModelForCausalLM.from_config(config).float()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and ("norm" in name or "ln_" in name) and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))
    return model.to(dtype).eval()


def save_hf(model, directory, shards):
    if os.path.exists(directory):
        shutil.rmtree(directory)
    if shards > 1:
        total = sum(p.numel() * p.element_size() for p in model.state_dict().values())
        model.save_pretrained(directory, max_shard_size=total // shards + 1)
    else:
        model.save_pretrained(directory)
    for extra in ("generation_config.json",):
        path = os.path.join(directory, extra)
        if os.path.exists(path):
            os.remove(path)


def read_hf(directory):
    """Every tensor of the directory as float64 numpy, by its file name."""
    tensors = {}
    for f in sorted(os.listdir(directory)):
        if f.endswith(".safetensors"):
            for k, v in load_file(os.path.join(directory, f)).items():
                tensors[k] = np.asarray(v, dtype=np.float64)
    return tensors


def read_bf16_safe(directory):
    """safetensors.numpy cannot give bfloat16: read through torch instead."""
    from safetensors.torch import load_file as load_torch
    tensors = {}
    for f in sorted(os.listdir(directory)):
        if f.endswith(".safetensors"):
            for k, v in load_torch(os.path.join(directory, f)).items():
                tensors[k] = v.to(torch.float64).numpy()
    return tensors


# ---------------------------------------------------------------------------------------------
# float64 reference, written from the Hugging Face modelling conventions
# ---------------------------------------------------------------------------------------------

def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def layer_norm(x, w, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def rope_halves(x, theta):
    """x: [T, heads, d]; HF rotate_half pairing (i, i + d/2)."""
    T, _, d = x.shape
    inv = 1.0 / theta ** (np.arange(0, d, 2, dtype=np.float64) / d)
    angles = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]       # [T, d/2]
    cos = np.concatenate([np.cos(angles)] * 2, axis=-1)[:, None, :]
    sin = np.concatenate([np.sin(angles)] * 2, axis=-1)[:, None, :]
    rotated = np.concatenate([-x[..., d // 2:], x[..., : d // 2]], axis=-1)
    return x * cos + rotated * sin


def attention(q, k, v):
    """q: [T, H, d], k/v: [T, KV, d]; causal, GQA (head h reads kv head h // group)."""
    T, H, d = q.shape
    group = H // k.shape[1]
    out = np.zeros_like(q)
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for h in range(H):
        s = q[:, h] @ k[:, h // group].T / np.sqrt(d) + mask
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        out[:, h] = p @ v[:, h // group]
    return out


def silu(x):
    return x / (1 + np.exp(-x))


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def rope_theta(c):
    """transformers >= 5 writes rope_parameters: {rope_theta, rope_type}; older configs rope_theta."""
    return c["rope_theta"] if "rope_theta" in c else c["rope_parameters"]["rope_theta"]


def llama_like(w, c, tokens, biases):
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
    d = c["hidden_size"] // H
    eps, theta = c["rms_norm_eps"], rope_theta(c)
    x = w["model.embed_tokens.weight"][tokens]
    T = len(tokens)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        def proj(name):
            y = h @ w[p + f"self_attn.{name}.weight"].T
            return y + w[p + f"self_attn.{name}.bias"] if biases else y
        q = rope_halves(proj("q_proj").reshape(T, H, d), theta)
        k = rope_halves(proj("k_proj").reshape(T, KV, d), theta)
        v = proj("v_proj").reshape(T, KV, d)
        x = x + attention(q, k, v).reshape(T, H * d) @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        inner = silu(h @ w[p + "mlp.gate_proj.weight"].T) * (h @ w[p + "mlp.up_proj.weight"].T)
        x = x + inner @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"]) if not c.get("tie_word_embeddings") \
        else w["model.embed_tokens.weight"]
    return x @ head.T


def gpt2(w, c, tokens):
    pre = "transformer." if "transformer.wte.weight" in w else ""
    H, D = c["n_head"], c["n_embd"]
    d, eps, T = D // H, c["layer_norm_epsilon"], len(tokens)
    x = w[pre + "wte.weight"][tokens] + w[pre + "wpe.weight"][:T]
    for i in range(c["n_layer"]):
        p = f"{pre}h.{i}."
        h = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]       # Conv1D: [in, out]
        q, k, v = (qkv[:, j * D:(j + 1) * D].reshape(T, H, d) for j in range(3))
        x = x + attention(q, k, v).reshape(T, D) @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        inner = gelu_tanh(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + inner @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = layer_norm(x, w[pre + "ln_f.weight"], w[pre + "ln_f.bias"], eps)
    return x @ w[pre + "wte.weight"].T


# ---------------------------------------------------------------------------------------------
# GGUF, as convert_hf_to_gguf.py writes these architectures
# ---------------------------------------------------------------------------------------------

def permute(weights, heads):
    """convert_hf_to_gguf LlamaModel.permute: HF rotate_half rows -> adjacent-pair rows."""
    rows = weights.shape[0]
    return weights.reshape(heads, 2, rows // heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def write_gguf(path, kind, w, c, half):
    arch = kind
    writer = gguf.GGUFWriter(path, arch)
    def put(name, array):
        array = np.ascontiguousarray(array)
        dtype = np.float16 if (half and array.ndim == 2 and "token_embd" not in name) else np.float32
        writer.add_tensor(name, array.astype(dtype))
    if kind == "gpt2":
        pre = "transformer." if "transformer.wte.weight" in w else ""
        writer.add_block_count(c["n_layer"]); writer.add_context_length(c["n_positions"])
        writer.add_embedding_length(c["n_embd"]); writer.add_feed_forward_length(4 * c["n_embd"])
        writer.add_head_count(c["n_head"]); writer.add_layer_norm_eps(c["layer_norm_epsilon"])
        put("token_embd.weight", w[pre + "wte.weight"]); put("position_embd.weight", w[pre + "wpe.weight"])
        put("output.weight", w[pre + "wte.weight"])
        put("output_norm.weight", w[pre + "ln_f.weight"]); put("output_norm.bias", w[pre + "ln_f.bias"])
        names = {"ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
                 "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"}
        for i in range(c["n_layer"]):
            for hf, gg in names.items():
                weight = w[f"{pre}h.{i}.{hf}.weight"]
                put(f"blk.{i}.{gg}.weight", weight.T if weight.ndim == 2 else weight)
                put(f"blk.{i}.{gg}.bias", w[f"{pre}h.{i}.{hf}.bias"])
    else:
        H, KV = c["num_attention_heads"], c["num_key_value_heads"]
        writer.add_block_count(c["num_hidden_layers"]); writer.add_context_length(c["max_position_embeddings"])
        writer.add_embedding_length(c["hidden_size"]); writer.add_feed_forward_length(c["intermediate_size"])
        writer.add_head_count(H); writer.add_head_count_kv(KV)
        writer.add_layer_norm_rms_eps(c["rms_norm_eps"]); writer.add_rope_freq_base(rope_theta(c))
        writer.add_vocab_size(c["vocab_size"])
        put("token_embd.weight", w["model.embed_tokens.weight"])
        put("output_norm.weight", w["model.norm.weight"])
        if not c.get("tie_word_embeddings") and "lm_head.weight" in w:
            put("output.weight", w["lm_head.weight"])
        names = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
                 "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
                 "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                 "mlp.down_proj": "ffn_down"}
        for i in range(c["num_hidden_layers"]):
            for hf, gg in names.items():
                for suffix in ("weight", "bias"):
                    key = f"model.layers.{i}.{hf}.{suffix}"
                    if key not in w:
                        continue
                    value = w[key]
                    if kind != "qwen2" and gg in ("attn_q", "attn_k"):   # llama.cpp permutes llama q/k only
                        value = permute(value, H if gg == "attn_q" else KV)
                    put(f"blk.{i}.{gg}.{suffix}", value)
    writer.write_header_to_file(); writer.write_kv_data_to_file(); writer.write_tensors_to_file(); writer.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for seed, (name, (kind, dtype, shards, kwargs)) in enumerate(SPECS.items()):
        model = make_model(kind, dtype, kwargs, seed + 1)
        directory = os.path.join(args.out, f"{name}-hf")
        save_hf(model, directory, shards)
        with open(os.path.join(directory, "config.json")) as f:
            c = json.load(f)
        w = read_bf16_safe(directory)
        reference = gpt2(w, c, TOKENS) if kind == "gpt2" else llama_like(w, c, TOKENS, kind == "qwen2")
        # Cross-check: transformers in float32 on the same (rounded) weights.
        check = tf.AutoModelForCausalLM.from_pretrained(directory, torch_dtype=torch.float32).eval()
        with torch.no_grad():
            theirs = check(torch.tensor([TOKENS])).logits[0].double().numpy()
        diff = float(np.abs(theirs - reference).max())
        assert diff < 1e-3, f"{name}: transformers differs from the float64 reference by {diff}"
        write_gguf(os.path.join(args.out, f"{name}.gguf"), kind, w, c, half=dtype == torch.float16)
        reference.astype("<f4").tofile(os.path.join(args.out, f"{name}.logits.bin"))
        with open(os.path.join(args.out, f"{name}.json"), "w") as f:
            json.dump({"tokens": TOKENS, "vocabulary": VOCAB, "logits": f"{name}.logits.bin",
                       "transformers_max_abs_diff": diff, "max_abs_logit": float(np.abs(reference).max())}, f, indent=1)
        print(f"{name}: {sorted(os.listdir(directory))}, |logits| max {np.abs(reference).max():.3f}, "
              f"transformers f32 vs float64 reference: {diff:.2e}")


if __name__ == "__main__":
    main()
