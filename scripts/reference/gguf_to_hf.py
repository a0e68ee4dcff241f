#!/usr/bin/env python3
"""Turns a llama-architecture GGUF (byte-level BPE vocabulary) into a Hugging Face directory:
config.json, model.safetensors (or shards + index), tokenizer.json, tokenizer_config.json.
For end-to-end checks of `--model DIR` against the GGUF it came from, and against transformers.
Not used by tests or CI.

    /work/refs/venv/bin/python scripts/reference/gguf_to_hf.py models/SmolLM2-135M-Instruct.Q4_1.gguf /tmp/smol-hf \
        [--dtype f32|f16|bf16] [--shards N]
"""
import argparse, json, os, sys

import gguf
import numpy as np
import torch
from gguf.quants import dequantize
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from hf_vocab_crosscheck import byte_level_tokenizer, field  # noqa: E402


def unpermute(w, heads):
    """Inverse of convert_hf_to_gguf's q/k permutation (rows [heads, 2, half] <- [heads, half, 2])."""
    rows = w.shape[0]
    return w.reshape(heads, rows // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf"); ap.add_argument("out")
    ap.add_argument("--dtype", default="bf16", choices=["f32", "f16", "bf16"])
    ap.add_argument("--shards", type=int, default=1)
    a = ap.parse_args()
    r = gguf.GGUFReader(a.gguf)
    arch = field(r, "general.architecture")
    assert arch == "llama", arch
    k = lambda s: field(r, f"{arch}.{s}")
    heads, kv = k("attention.head_count"), k("attention.head_count_kv")
    tensors = {t.name: dequantize(t.data, t.tensor_type).reshape([int(x) for x in reversed(t.shape)]) for t in r.tensors}
    layers = k("block_count")
    names = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    per = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
           "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
           "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm"}
    out = {}
    for name, w in tensors.items():
        parts = name.split(".")
        if name in names:
            hf = names[name]
        else:
            hf = f"model.layers.{parts[1]}.{per[parts[2]]}.weight"
            if parts[2] == "attn_q": w = unpermute(w, heads)
            if parts[2] == "attn_k": w = unpermute(w, kv)
        dt = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[a.dtype]
        out[hf] = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)).to(dt)
    os.makedirs(a.out, exist_ok=True)
    tied = "output.weight" not in tensors
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
              "hidden_size": k("embedding_length"), "intermediate_size": k("feed_forward_length"),
              "num_attention_heads": heads, "num_key_value_heads": kv, "num_hidden_layers": layers,
              "rms_norm_eps": k("attention.layer_norm_rms_epsilon"), "rope_theta": k("rope.freq_base") or 10000.0,
              "vocab_size": tensors["token_embd.weight"].shape[0], "max_position_embeddings": k("context_length"),
              "tie_word_embeddings": tied, "hidden_act": "silu", "attention_bias": False, "mlp_bias": False,
              "bos_token_id": field(r, "tokenizer.ggml.bos_token_id"), "eos_token_id": field(r, "tokenizer.ggml.eos_token_id"),
              "torch_dtype": {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[a.dtype]}
    json.dump(config, open(os.path.join(a.out, "config.json"), "w"), indent=1)
    keys = sorted(out)
    if a.shards == 1:
        save_file(out, os.path.join(a.out, "model.safetensors"), metadata={"format": "pt"})
    else:
        index = {"metadata": {}, "weight_map": {}}
        for s in range(a.shards):
            file = f"model-{s + 1:05d}-of-{a.shards:05d}.safetensors"
            part = {n: out[n] for n in keys[s::a.shards]}
            save_file(part, os.path.join(a.out, file), metadata={"format": "pt"})
            index["weight_map"].update({n: file for n in part})
        json.dump(index, open(os.path.join(a.out, "model.safetensors.index.json"), "w"), indent=1)
    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type") or [1] * len(tokens)
    tok = byte_level_tokenizer(tokens, field(r, "tokenizer.ggml.merges"), types, field(r, "tokenizer.ggml.pre") == "smollm")
    tok.save(os.path.join(a.out, "tokenizer.json"))
    cfg = {"bos_token": tokens[config["bos_token_id"]], "eos_token": tokens[config["eos_token_id"]],
           "add_bos_token": bool(field(r, "tokenizer.ggml.add_bos_token")),
           "chat_template": field(r, "tokenizer.chat_template")}
    json.dump(cfg, open(os.path.join(a.out, "tokenizer_config.json"), "w"), indent=1)
    print("wrote", a.out, len(out), "tensors", a.dtype, a.shards, "shard(s)")


if __name__ == "__main__":
    main()
