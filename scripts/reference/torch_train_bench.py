#!/usr/bin/env python3
"""PyTorch eager float32 training step of SmolLM2-135M shapes (random weights, same shapes; `--gguf M` reads them from the file), AdamW (foreach), tied LM head, adjacent-pair RoPE as the GGUF stores it.
Usage: scripts/reference/torch_train_bench.py THREADS [--seq-len 128 --micro-batch 4 --steps 5 --warmup 2]
Run with /work/refs/venv/bin/python (torch 2.15). Compare with: trident bench train --model M --seq-len 128 --micro-batch 4 --threads THREADS"""
import argparse, time, math, resource, statistics
import torch, torch.nn as nn, torch.nn.functional as F
ap = argparse.ArgumentParser(); ap.add_argument("threads", type=int)
ap.add_argument("--seq-len", type=int, default=128); ap.add_argument("--micro-batch", type=int, default=4)
ap.add_argument("--steps", type=int, default=5); ap.add_argument("--warmup", type=int, default=2)
ap.add_argument("--gguf", default=None)
a = ap.parse_args()
torch.set_num_threads(a.threads); torch.set_num_interop_threads(1); torch.manual_seed(0)
V, D, L, H, KV, HD, FF, THETA, EPS = 49152, 576, 30, 9, 3, 64, 1536, 100000.0, 1e-5
if a.gguf:  # read the shapes from the file to be sure they match
    import gguf
    r = gguf.GGUFReader(a.gguf); f = lambda k: r.fields[k].parts[-1][0]
    D, L, H, KV, FF = int(f("llama.embedding_length")), int(f("llama.block_count")), int(f("llama.attention.head_count")), int(f("llama.attention.head_count_kv")), int(f("llama.feed_forward_length"))
    THETA, EPS = float(f("llama.rope.freq_base")), float(f("llama.attention.layer_norm_rms_epsilon")); HD = D // H
    V = [t for t in r.tensors if t.name == "token_embd.weight"][0].shape[-1]
    V = int(max(t.shape) for t in r.tensors if t.name == "token_embd.weight") if False else int(max([t for t in r.tensors if t.name == "token_embd.weight"][0].shape))
print(f"V {V} D {D} L {L} H {H} KV {KV} HD {HD} FF {FF} theta {THETA} eps {EPS} threads {a.threads}")
def rms(x, w): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w
class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.an = nn.Parameter(torch.ones(D)); s.fn = nn.Parameter(torch.ones(D))
        s.q = nn.Linear(D, H*HD, bias=False); s.k = nn.Linear(D, KV*HD, bias=False); s.v = nn.Linear(D, KV*HD, bias=False)
        s.o = nn.Linear(H*HD, D, bias=False)
        s.g = nn.Linear(D, FF, bias=False); s.u = nn.Linear(D, FF, bias=False); s.d = nn.Linear(FF, D, bias=False)
    def forward(s, x, cos, sin):
        B, T, _ = x.shape
        h = rms(x, s.an)
        q = s.q(h).view(B, T, H, HD); k = s.k(h).view(B, T, KV, HD); v = s.v(h).view(B, T, KV, HD)
        def rope(t):  # adjacent pairs
            t = t.view(*t.shape[:-1], HD//2, 2); t0, t1 = t[..., 0], t[..., 1]
            return torch.stack([t0*cos - t1*sin, t0*sin + t1*cos], -1).flatten(-2)
        q, k = rope(q).transpose(1, 2), rope(k).transpose(1, 2); v = v.transpose(1, 2)
        k = k.repeat_interleave(H//KV, 1); v = v.repeat_interleave(H//KV, 1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(HD)
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, H*HD)
        x = x + s.o(y)
        h = rms(x, s.fn)
        return x + s.d(F.silu(s.g(h)) * s.u(h))
class Model(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Parameter(torch.randn(V, D) * 0.02); s.blocks = nn.ModuleList([Block() for _ in range(L)]); s.on = nn.Parameter(torch.ones(D))
    def forward(s, ids, tgt):
        T = ids.shape[1]
        pos = torch.arange(T, dtype=torch.float32)[:, None]
        inv = THETA ** (-torch.arange(0, HD, 2, dtype=torch.float32) / HD)
        ang = pos * inv; cos, sin = ang.cos()[:, None, :], ang.sin()[:, None, :]  # [T,1,HD/2]
        x = s.emb[ids]
        for b in s.blocks: x = b(x, cos, sin)
        logits = rms(x, s.on) @ s.emb.t()  # tied head
        return F.cross_entropy(logits.view(-1, V), tgt.reshape(-1))
m = Model(); opt = torch.optim.AdamW(m.parameters(), lr=1e-5, foreach=True)
print("params", sum(p.numel() for p in m.parameters()))
times = []
for i in range(a.warmup + a.steps):
    ids = torch.randint(0, V, (a.micro_batch, a.seq_len + 1))
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = m(ids[:, :-1], ids[:, 1:]); loss.backward(); opt.step()
    dt = time.perf_counter() - t0
    if i >= a.warmup: times.append(dt)
med = statistics.median(times); tok = a.micro_batch * a.seq_len
print(f"torch threads {a.threads} seq {a.seq_len} mb {a.micro_batch}: median {med:.3f} s/step, {tok/med:.1f} tokens/s, "
      f"steps {[round(t,3) for t in times]}, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.1f} MiB, loss {loss.item():.3f}")
