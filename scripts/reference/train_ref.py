#!/usr/bin/env python3
"""Float64 autograd reference for Trident's training step; it made Tests/Fixtures/training.

Needs `pip install numpy autograd gguf regex` and the float64 numpy Llama oracle `llama_ref.py`
(directory in TRIDENT_ORACLE). Loads a GGUF with that oracle (weights dequantized to f32, held in f64), builds
batches by Trident's data contract, and runs AdamW (torch.optim.AdamW's rule) for a few steps.
Writes a JSON fixture: per-step loss, grad_norm (before clipping), lr, and samples of weights.
"""
import argparse, json, math, sys, os, hashlib
sys.path.insert(0, os.environ.get("TRIDENT_ORACLE", os.path.join(os.path.dirname(__file__), "../../../shared/tools/oracle")))
import numpy as onp
import autograd.numpy as np
from autograd import grad, value_and_grad
import llama_ref

def params_of(m):
    c = m.cfg
    names, values = [], []
    def add(n, a): names.append(n); values.append(onp.array(a, dtype=onp.float64))
    add("token_embd.weight", m.tok_embd)
    for i, L in enumerate(m.layers):
        p = f"blk.{i}."
        add(p+"attn_norm.weight", L.attn_norm); add(p+"attn_q.weight", L.wq); add(p+"attn_k.weight", L.wk)
        add(p+"attn_v.weight", L.wv); add(p+"attn_output.weight", L.wo); add(p+"ffn_norm.weight", L.ffn_norm)
        add(p+"ffn_gate.weight", L.w_gate); add(p+"ffn_up.weight", L.w_up); add(p+"ffn_down.weight", L.w_down)
    add("output_norm.weight", m.out_norm)
    if not c.tied_embeddings: add("output.weight", m.output)
    return names, values

def make_loss(m, names):
    c = m.cfg
    idx = {n: i for i, n in enumerate(names)}
    group = c.n_head // c.n_head_kv
    scale = 1.0 / math.sqrt(c.head_dim)
    def rms(x, w): return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + c.rms_eps) * w
    def rope(x, cos, sin):  # x (T, H, hd) adjacent pairs
        T, H, hd = x.shape
        xr = np.reshape(x, (T, H, hd // 2, 2))
        x0, x1 = xr[..., 0], xr[..., 1]
        cs, sn = cos[:, None, :], sin[:, None, :]
        y0 = x0 * cs - x1 * sn; y1 = x0 * sn + x1 * cs
        return np.reshape(np.stack([y0, y1], axis=-1), (T, H, hd))
    def seq_loss(P, inp, tgt):
        T = len(inp)
        emb = P[idx["token_embd.weight"]]
        x = emb[onp.array(inp)]
        cos, sin = m.rope_angles(T)
        mask = onp.triu(onp.ones((T, T), dtype=bool), k=1)
        for i in range(c.n_layer):
            p = f"blk.{i}."; g = lambda n: P[idx[p+n]]
            h = rms(x, g("attn_norm.weight"))
            q = rope(np.reshape(np.dot(h, g("attn_q.weight").T), (T, c.n_head, c.head_dim)), cos, sin)
            k = rope(np.reshape(np.dot(h, g("attn_k.weight").T), (T, c.n_head_kv, c.head_dim)), cos, sin)
            v = np.reshape(np.dot(h, g("attn_v.weight").T), (T, c.n_head_kv, c.head_dim))
            outs = []
            for hh in range(c.n_head):
                kv = hh // group
                s = np.dot(q[:, hh, :], k[:, kv, :].T) * scale
                s = np.where(mask, -1e300, s)
                s = s - np.max(s, axis=1, keepdims=True)
                e = np.exp(s); pr = e / np.sum(e, axis=1, keepdims=True)
                outs.append(np.dot(pr, v[:, kv, :]))
            att = np.concatenate(outs, axis=1)
            x = x + np.dot(att, g("attn_output.weight").T)
            h = rms(x, g("ffn_norm.weight"))
            a = np.dot(h, g("ffn_gate.weight").T); u = np.dot(h, g("ffn_up.weight").T)
            x = x + np.dot(a / (1.0 + np.exp(-a)) * u, g("ffn_down.weight").T)
        out = P[idx["output.weight"]] if "output.weight" in idx else emb
        logits = np.dot(rms(x, P[idx["output_norm.weight"]]), out.T)
        mx = np.max(logits, axis=1, keepdims=True)
        lse = np.log(np.sum(np.exp(logits - mx), axis=1)) + mx[:, 0]
        return np.sum(lse - logits[onp.arange(T), onp.array(tgt)])
    def loss(P, seqs):
        total = 0.0; count = 0
        for s in seqs:
            total = total + seq_loss(P, s[:-1], s[1:]); count += len(s) - 1
        return total / count
    return loss

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model"); ap.add_argument("--data", required=True); ap.add_argument("--out", required=True)
    ap.add_argument("--seq-len", type=int, default=64); ap.add_argument("--micro-batch", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5); ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--beta1", type=float, default=0.9); ap.add_argument("--beta2", type=float, default=0.95)
    ap.add_argument("--eps", type=float, default=1e-8); ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--dump-grads", help="write step-1 gradients (f32, parameter order) here")
    a = ap.parse_args()
    m = llama_ref.LlamaRef(a.model, verbose=False)
    text = open(a.data, encoding="utf-8").read()
    toks = m.tok.encode(text, add_special=False)
    L, B = a.seq_len, a.micro_batch
    N = (len(toks) - 1) // L
    names, P = params_of(m)
    loss = make_loss(m, names)
    vg = value_and_grad(loss)
    mom = [onp.zeros_like(p) for p in P]; vel = [onp.zeros_like(p) for p in P]
    steps = []
    def sample(P):
        out = {}
        for n in ("blk.0.attn_q.weight", "blk.0.ffn_down.weight", "output_norm.weight", "token_embd.weight"):
            a_ = P[names.index(n)].reshape(-1)
            out[n] = {"first8": [float(x) for x in a_[:8]], "sum": float(a_.sum()), "sum_abs": float(onp.abs(a_).sum())}
        return out
    for s in range(1, a.steps + 1):
        ids = [((s - 1) * B + j) % N for j in range(B)]
        seqs = [toks[k * L: k * L + L + 1] for k in ids]
        val, G = vg(P, seqs)
        gn = math.sqrt(sum(float((g * g).sum()) for g in G))
        if s == 1 and a.dump_grads:
            onp.concatenate([g.reshape(-1) for g in G]).astype(onp.float32).tofile(a.dump_grads)
        for i in range(len(P)):
            g = G[i]
            P[i] = P[i] * (1 - a.lr * a.weight_decay)
            mom[i] = a.beta1 * mom[i] + (1 - a.beta1) * g
            vel[i] = a.beta2 * vel[i] + (1 - a.beta2) * g * g
            bc1 = 1 - a.beta1 ** s; bc2 = 1 - a.beta2 ** s
            P[i] = P[i] - (a.lr / bc1) * mom[i] / (onp.sqrt(vel[i]) / math.sqrt(bc2) + a.eps)
        steps.append({"step": s, "sequences": ids, "loss": float(val), "grad_norm": gn, "lr": a.lr,
                      "weights_after": sample(P)})
        print(f"step {s}: loss {val:.8f} grad_norm {gn:.6f}", file=sys.stderr)
    fixture = {
        "generator": "float64 autograd reference of Trident's data contract and torch.optim.AdamW's rule",
        "model_sha256": hashlib.sha256(open(a.model, "rb").read()).hexdigest(),
        "data_tokens": len(toks), "first_tokens": toks[:16], "sequences_available": N,
        "seq_len": L, "micro_batch": B, "accumulate": 1, "lr": a.lr, "beta1": a.beta1, "beta2": a.beta2,
        "eps": a.eps, "weight_decay": a.weight_decay, "clip_norm": 0, "lr_schedule": "constant",
        "parameters": [{"name": n, "shape": list(p.shape)} for n, p in zip(names, params_of(m)[1])],
        "steps": steps,
    }
    json.dump(fixture, open(a.out, "w"), indent=1)

main()
