#!/usr/bin/env python3
"""Regenerates the tokenizer fixtures in this folder (not run by tests).

    python3 make_fixtures.py --oracle ../../../../shared/tools/oracle --model ../../../models/SmolLM2-135M-Instruct.Q4_1.gguf

Token ids and pre-tokenizer pieces come from the oracle (llama_ref.py, a port of llama.cpp's
tokenizer); chat template outputs from Python jinja2 with Hugging Face's settings
(trim_blocks=True, lstrip_blocks=True) unless a case says otherwise.
"""
import argparse, hashlib, json, os, sys

CASES = [
    ("empty", "", False),
    ("hello", "Hello world", False),
    ("spaces", "  leading and   multiple    spaces, trailing   ", False),
    ("whitespace", "\t tabs\tand\n\nnewlines\r\n  indented\n \n", False),
    ("digits", "12345 and 3.14159 and 1,000,000 in 2024: x2y", False),
    ("unicode_digits", "\u0663\u0664\u0665 Arabic-Indic, \u00bd half, x\u00b2", False),
    ("emoji", "Hello \U0001F44B\U0001F3FD world \U0001F389\U0001F1EB\U0001F1F7 \U0001F468\u200d\U0001F469\u200d\U0001F467!", False),
    ("cjk", "\u4f60\u597d\uff0c\u4e16\u754c\uff01\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 \ud55c\uad6d\uc5b4", False),
    ("code", "func f(x: Int) -> Int {\n    return x * 2 // double\n}\n\ndef g():\n\tpass  # tab\n", False),
    ("contractions", "I'm sure you'll see, they've said she'd go; it's WE'RE DON'T 'quoted' ''s", False),
    ("accents", "caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00dcn\u00efc\u00f6d\u00e9 e\u0301 \u00c5ngstr\u00f6m", False),
    ("unicode_spaces", "Mixed\u00a0nbsp\u3000ideographic\u2009thin space", False),
    ("punctuation", "!!! ??? ... --- *** @@@ #hashtag $100 50% a&b <tag/>", False),
    ("url", "https://example.com/path?q=1&r=2#frag user@mail.org", False),
    ("special_parsed", "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n", True),
    ("special_unparsed", "<|im_start|>user\nHi there<|im_end|>\n", False),
    ("special_adjacent", "<|endoftext|><|endoftext|>x<reponame>y<|im_start", True),
    ("long_word", "supercalifragilisticexpialidocious antidisestablishmentarianism", False),
]

PRE_TEXTS = [
    "Hello world", "  two  spaces   three", "trail  ", "\n\n\n", "a\n b\n\n  c \r\n d",
    "12345678 and 3.14159 x1y22z333", "I'm sure you'll, THEY'VE 'quoted' ''s", "don'T WE'Re",
    "\u0663\u0664\u0665\u00bd\u00b2", "\U0001F44B\U0001F3FD world\U0001F389", "\u4f60\u597d\uff0c\u4e16\u754c",
    "func f(x) {\n    return x*2; // c\n}\n", "!!! ??? ...\n\n", ".hello ,world", "\tword \u00a0nbsp",
    "a  \tb", "  ", " ", "", "x'", "'ll've", "caf\u00e9 e\u0301", "...\r\n\r\nnext", " ?!\nword",
]
PRE_NAMES = ["gpt-2", "smollm", "llama3", "qwen2"]

# Random strings over an alphabet of every character class the scanners distinguish.
ALPHABET = (list("aZ\u00e9\u00df\u4e2d\u0416\u05d0") + list("09\u0663\u00bd\u2160") +
            [" ", " ", " ", "\t", "\n", "\r", "\u00a0", "\u3000", "\u2028", "\x0b"] +
            list("'sStTrReEvVmMlLdD") + list(".,!?-_#\"(){}\u2014\u00bf") +
            ["\U0001F600", "\u0301", "\u200d", "\ufe0f", "\x00", "\x1f"])


def random_texts(n, seed=20261129):
    import random
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 24))) for _ in range(n)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--license", required=True)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    sys.path.insert(0, a.oracle)
    import gguf, llama_ref
    md = llama_ref.read_metadata(gguf.GGUFReader(a.model))
    tok = llama_ref.BPETokenizer(md)

    cases = []
    for k, text in enumerate(random_texts(40)):
        CASES.append((f"random{k:02d}", text, False))
    for name, text, special in CASES:
        ids = tok.encode(text, add_special=True, parse_special=special)
        cases.append({"name": name, "text": text, "parseSpecial": special, "ids": ids,
                      "decoded": tok.decode(ids)})
    lic = open(a.license, encoding="utf-8").read()
    lic_ids = tok.encode(lic, add_special=True, parse_special=False)
    out = {"model": os.path.basename(a.model), "eog": sorted(tok.eog_ids), "cases": cases,
           "license": {"count": len(lic_ids),
                       "sha256": hashlib.sha256(",".join(map(str, lic_ids)).encode()).hexdigest(),
                       "ids": lic_ids}}
    with open(os.path.join(a.out, "smollm2-encode.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=True, indent=1)

    pre = {}
    for name in PRE_NAMES:
        t = llama_ref.BPETokenizer(md, pre_override=name)
        pre[name] = [{"text": s, "pieces": t.pre_split(s) if s else []} for s in PRE_TEXTS + random_texts(120, 7)]
    with open(os.path.join(a.out, "pretokenizer-pieces.json"), "w", encoding="utf-8") as f:
        json.dump(pre, f, ensure_ascii=True, separators=(",", ":"))
    print("wrote", len(cases), "cases,", len(lic_ids), "license ids")


if __name__ == "__main__":
    main()
