#!/usr/bin/env python3
"""Builds Hugging Face tokenizer.json files from real llama.cpp vocabularies and records the ids
`tokenizers` gives for llama.cpp's conformance texts, for the gated Swift test
HuggingFaceCrossCheckTests (not run by CI; nothing here is committed but this script).

    /work/refs/venv/bin/python scripts/reference/hf_vocab_crosscheck.py /work/refs/llama.cpp/models /tmp/hf-crosscheck \
        models/SmolLM2-135M-Instruct.Q4_1.gguf
    TRIDENT_HF_CROSSCHECK_DIR=/tmp/hf-crosscheck swift test ... --filter HuggingFaceCrossCheckTests

- SentencePiece vocabularies (llama-spm, phi-3): converted as transformers' LlamaConverter
  does (merges from the vocabulary ordered by score, byte fallback, Prepend+Replace normalizer).
- byte-level BPE vocabularies (gpt-2): vocab + merges with a ByteLevel pre-tokenizer; SmolLM2's
  (optional third argument) with Digits + ByteLevel, on the StarCoder conformance texts.
Each NAME/ gets tokenizer.json and expected.json ([{text, ids}], no special tokens).
"""
import json, os, sys

import gguf
from tokenizers import AddedToken, Tokenizer, models, normalizers, pre_tokenizers, decoders

SEP = "\n__ggml_vocab_test__\n"


def field(reader, key):
    f = reader.fields.get(key)
    if f is None:
        return None
    if len(f.data) == 1 and f.types[0] != gguf.GGUFValueType.ARRAY:
        v = f.parts[f.data[0]]
        return bytes(v).decode() if f.types[0] == gguf.GGUFValueType.STRING else v.tolist()[0]
    if f.types[-1] == gguf.GGUFValueType.STRING:
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    return [f.parts[i].tolist()[0] for i in f.data]


def spm_tokenizer(tokens, scores, types):
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = []
    for i, piece in enumerate(tokens):
        local = [(piece[:k], piece[k:], scores[i]) for k in range(1, len(piece))
                 if piece[:k] in vocab and piece[k:] in vocab]
        merges.extend(sorted(local, key=lambda m: (vocab[m[0]], vocab[m[1]])))
    merges.sort(key=lambda m: m[2], reverse=True)
    tok = Tokenizer(models.BPE(vocab, [(a, b) for a, b, _ in merges], unk_token=tokens[0], fuse_unk=True,
                               byte_fallback=True))
    tok.add_tokens([AddedToken(t, normalized=False, special=types[i] in (2, 3))
                    for i, t in enumerate(tokens) if types[i] in (2, 3, 4)])
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(content=" ", left=1, right=0)])
    return tok


def byte_level_tokenizer(tokens, merges, types, digits):
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab, [tuple(m.split(" ", 1)) for m in merges]))
    tok.add_tokens([AddedToken(t, normalized=False, special=types[i] == 3)
                    for i, t in enumerate(tokens) if types[i] in (3, 4)])
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if digits:   # SmolLM2 / StarCoder: every digit alone, then GPT-2
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                     pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    return tok


def main():
    src, out = sys.argv[1], sys.argv[2]
    smollm2 = sys.argv[3] if len(sys.argv) > 3 else None      # models/SmolLM2-135M-Instruct.Q4_1.gguf
    for name in ["llama-spm", "phi-3", "gpt-2"] + (["smollm2"] if smollm2 else []):
        path = os.path.join(src, f"ggml-vocab-{name}.gguf")
        inp = path + ".inp"
        if name == "smollm2":
            path, inp = smollm2, os.path.join(src, "ggml-vocab-starcoder.gguf.inp")
        reader = gguf.GGUFReader(path)
        tokens = field(reader, "tokenizer.ggml.tokens")
        types = field(reader, "tokenizer.ggml.token_type") or [1] * len(tokens)
        if field(reader, "tokenizer.ggml.model") == "llama":
            tok = spm_tokenizer(tokens, field(reader, "tokenizer.ggml.scores"), types)
        else:
            tok = byte_level_tokenizer(tokens, field(reader, "tokenizer.ggml.merges"), types, name == "smollm2")
        texts = open(inp, encoding="utf-8").read()
        texts = texts[:-len(SEP)].split(SEP) if texts.endswith(SEP) else texts.split(SEP)
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        tok.save(os.path.join(folder, "tokenizer.json"))
        cases = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in texts]
        with open(os.path.join(folder, "expected.json"), "w", encoding="utf-8") as f:
            json.dump(cases, f, ensure_ascii=False)
        print(name, len(tokens), "tokens,", len(cases), "cases")


if __name__ == "__main__":
    main()
