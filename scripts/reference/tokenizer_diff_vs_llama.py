#!/usr/bin/env python3
"""Differential check (not run by CI): random multilingual strings, with special-token texts
parsed, tokenized by llama.cpp's llama-tokenize and by `trident tokenize`, per vocabulary.

    python3 scripts/reference/tokenizer_diff_vs_llama.py LLAMA_TOKENIZE TRIDENT MODELS_DIR [N]
"""
import os, random, subprocess, sys

POOL = (list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789      \t\n\n\r.,;:!?'\"()[]{}<>/\\-_=+*&^%$#@~`|")
        + list("éèüößñçÅœæøåαβγδωЖжщЯ你好世界日本語のカタ한국어مرحباहि🦙🚀👋🏽✨❤️\u00a0\u3000\u2009\u0301\u200d")
        + ["<s>", "</s>", "<unk>", "<|user|>", "<|end|>", "<|endoftext|>", " the", " and", "ing", "tion", "  ", "'s", "'ll"])


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.stdout.strip().splitlines()[-1] if p.stdout.strip() else "ERR " + p.stderr.strip()[-200:]


def main():
    llama, trident, models = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 25
    rng = random.Random(1234)
    texts = ["".join(rng.choice(POOL) for _ in range(rng.randint(1, 40))) for _ in range(n)]
    for name in sorted(os.listdir(models)):
        if not name.endswith(".gguf") or "bert" in name:
            continue
        path = os.path.join(models, name)
        same = 0
        for t in texts:
            a = run([llama, "-m", path, "-p", t, "--ids", "--log-disable"]).replace("[", "").replace("]", "").replace(",", "")
            b = run([trident, "tokenize", "--model", path, "--text", t])
            if a.split() == b.split():
                same += 1
            else:
                print(f"  {name} {t!r}\n    llama.cpp {a}\n    trident   {b}")
        print(f"| {name} | {len(texts)} | {same} |", flush=True)


if __name__ == "__main__":
    main()
