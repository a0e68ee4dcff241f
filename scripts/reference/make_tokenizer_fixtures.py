#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/tokenizers/ (not run by tests or CI).

    /work/refs/venv/bin/pip install sentencepiece protobuf tokenizers transformers gguf
    /work/refs/venv/bin/python scripts/reference/make_tokenizer_fixtures.py Tests/Fixtures/tokenizers

Trains small real vocabularies on the multilingual corpus below (code, CJK, emoji, whitespace
runs, accented text) and records the ids the reference libraries give for the test texts:
- spm.gguf: a SentencePiece BPE model (Llama settings: byte fallback, split digits, dummy
  prefix, identity normalization, whitespace kept) written as a vocabulary-only GGUF with
  gguf-py's GGUFWriter; ids from `sentencepiece`.
- spm-legacy.json, spm-metaspace.json: the same model as Hugging Face tokenizer.json, built
  as transformers' LlamaConverter does (what Llama 2 / TinyLlama / Mistral directories ship:
  Prepend+Replace normalizer, or a Metaspace pre-tokenizer); ids from `tokenizers`.
- bpe-llama3/tokenizer.json (+ tokenizer_config.json): a byte-level BPE trained with `tokenizers`
  with Llama 3's pre-tokenizer (Split on its regex, then ByteLevel) and ignore_merges;
  bpe-qwen2/tokenizer.json: one with Qwen 2's regex and NFC normalizer. Ids from `tokenizers`.
- expected.json: {fixture: [{text, ids}]}, ids without special tokens.
"""
import json, os, sys, tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb
import gguf
from tokenizers import AddedToken, Tokenizer, Regex, models, normalizers, pre_tokenizers, decoders, trainers, processors

LINES = [
    "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs!",
    "Tokenizers split text into pieces; merges join the most frequent pairs first.",
    "In 2024, 1,234,567 people read 3.14159 pages at 09:45 on 2024-06-01.",
    "naïve café résumé façade jalapeño Ångström Übermensch crème brûlée déjà vu",
    "Le cœur a ses raisons que la raison ne connaît point. ¿Dónde está la biblioteca?",
    "Ein Fluß über die Brücke, schöne Grüße aus München und Zürich.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Η γρήγορη καφέ αλεπού πηδά πάνω από το τεμπέλικο σκυλί.",
    "你好，世界！今天天气很好，我们去公园散步吧。机器学习和自然语言处理。",
    "日本語のテキストです。東京は大きな都市で、ひらがなとカタカナと漢字を使います。",
    "한국어 문장입니다. 서울은 아름다운 도시입니다.",
    "مرحبا بالعالم، هذه جملة عربية قصيرة.",
    "हिन्दी में एक छोटा वाक्य है।",
    "Emoji: 🦙🚀✨ 👋🏽 🎉🇫🇷 👩‍👩‍👧 ❤️ 😂😂😂 🤖",
    "def square(x):\n    return x * x  # comment\n\nclass Point:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n",
    "func add(_ a: Int, _ b: Int) -> Int {\n    return a + b // sum\n}\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}\n",
    "    indented    with    many     spaces\t\ttabs\t and\n\n\nnewlines\r\n",
    "{\"key\": [1, 2, 3], \"nested\": {\"flag\": true, \"name\": \"value\"}}",
    "https://example.com/path?query=1&other=two#fragment user@example.org",
    "I'm sure you'll see they've said she'd go; it's DON'T WE'RE 'quoted'.",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
    "$ ls -la /usr/local/bin && echo \"done\" | grep -v error > out.txt",
    "Math: ∑ x² + √y ≤ ∞, α β γ δ ε, ½ ¾ ⅓, 10⁻³",
]

CASES = [
    "", " ", "  ", "Hello world", " Hello world", "Hello  world  ", "\n", "\n\n\n", "\t tab\tseparated\t",
    "a\n b\n\n  c \r\n d", "12345678 and 3.14159 x1y22z333", "I'm sure you'll, THEY'VE 'quoted' ''s",
    "naïve café résumé e\u0301 A\u030a", "你好，世界！机器学习。", "日本語のテキスト、カタカナ", "한국어 문장",
    "Emoji 🦙🚀 👋🏽 👩‍👩‍👧 🇫🇷 ❤️", "def f(x):\n    return x**2  # square\n",
    "    four spaces", "trailing spaces   ", "mixed\u00a0nbsp\u3000ideographic\u2009thin",
    "Rare: ǅ ꙮ 𓀀 ᚠᛇᚻ ⠓⠑⠇⠇⠕", "!!! ??? ... --- *** @@@ #tag $100 50% a&b <x/>",
    "Съешь же ещё", "Ω ≈ ∑ √", "{\"k\": [1, 2]}",
] + LINES

SPM_USER = ["<tool>"]


def train_sentencepiece(workdir):
    corpus = os.path.join(workdir, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        for rep in range(3):
            for line in LINES:
                f.write(line.replace("\n", " ") + "\n")
    prefix = os.path.join(workdir, "spm")
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, model_type="bpe", vocab_size=900, byte_fallback=True,
        split_digits=True, allow_whitespace_only_pieces=True, remove_extra_whitespaces=False,
        normalization_rule_name="identity", add_dummy_prefix=True, character_coverage=0.995,
        unk_id=0, bos_id=1, eos_id=2, user_defined_symbols=SPM_USER, hard_vocab_limit=False,
        num_threads=1, minloglevel=2)
    return prefix + ".model"


def write_spm_gguf(model_path, out_path):
    proto = pb.ModelProto()
    proto.ParseFromString(open(model_path, "rb").read())
    sp = spm.SentencePieceProcessor(model_file=model_path)
    w = gguf.GGUFWriter(out_path, arch="llama")
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list([p.piece for p in proto.pieces])
    w.add_token_scores([p.score for p in proto.pieces])
    w.add_token_types([int(p.type) for p in proto.pieces])   # sentencepiece's type numbers equal GGUF's
    w.add_bos_token_id(sp.bos_id())
    w.add_eos_token_id(sp.eos_id())
    w.add_unk_token_id(sp.unk_id())
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return sp


def write_spm_tokenizer_json(model_path, out_path, metaspace):
    """The SentencePiece model as Hugging Face tokenizer.json, built as transformers' classic
    LlamaConverter does: merges from the vocabulary ordered by score, byte fallback, `<unk>`
    `<s>` `</s>` special added tokens; spaces either by a Prepend+Replace normalizer (legacy
    Llama 2 / TinyLlama) or by a Metaspace pre-tokenizer with prepend_scheme "first"."""
    proto = pb.ModelProto()
    proto.ParseFromString(open(model_path, "rb").read())
    vocab = {p.piece: i for i, p in enumerate(proto.pieces)}
    merges = []
    for p in proto.pieces:
        piece = p.piece
        local = [(piece[:k], piece[k:], p.score) for k in range(1, len(piece))
                 if piece[:k] in vocab and piece[k:] in vocab]
        merges.extend(sorted(local, key=lambda m: (vocab[m[0]], vocab[m[1]])))
    merges.sort(key=lambda m: m[2], reverse=True)
    tok = Tokenizer(models.BPE(vocab, [(a, b) for a, b, _ in merges], unk_token="<unk>", fuse_unk=True,
                               byte_fallback=True))
    tok.add_tokens([AddedToken(p.piece, normalized=False, special=p.type in (2, 3))
                    for p in proto.pieces if p.type in (2, 3, 4)])
    if metaspace:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
        tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
    else:
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
        tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(content=" ", left=1, right=0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", vocab["<s>"])])
    tok.save(out_path)
    return tok


def train_byte_level(pattern, nfc, ignore_merges, out_dir):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    if nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(LINES * 3, trainer=trainer)
    tok.add_tokens(["<tool>"])                               # a non-special added token
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", bos)])
    os.makedirs(out_dir, exist_ok=True)
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    config = {"bos_token": "<|begin_of_text|>", "eos_token": {"content": "<|end_of_text|>", "special": True},
              "chat_template": "{% for m in messages %}<|begin_of_text|>{{ m['content'] }}<|eot_id|>{% endfor %}"}
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=1)
    return tok


LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    expected = {}
    with tempfile.TemporaryDirectory() as work:
        model = train_sentencepiece(work)
        sp = write_spm_gguf(model, os.path.join(out, "spm.gguf"))
        expected["spm"] = [{"text": t, "ids": sp.encode(t)} for t in CASES]
        for name, metaspace in [("spm-legacy", False), ("spm-metaspace", True)]:
            hf = write_spm_tokenizer_json(model, os.path.join(out, name + ".json"), metaspace)
            expected[name] = [{"text": t, "ids": hf.encode(t, add_special_tokens=False).ids} for t in CASES]
            expected[name + "+special"] = hf.encode("Hi</s>there", add_special_tokens=True).ids
    for name, pattern, nfc, ignore in [("bpe-llama3", LLAMA3, False, True), ("bpe-qwen2", QWEN2, True, False)]:
        tok = train_byte_level(pattern, nfc, ignore, os.path.join(out, name))
        expected[name] = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in CASES]
        expected[name + "+special"] = tok.encode("Hi", add_special_tokens=True).ids
    expected["spm+special"] = [sp.bos_id()] + sp.encode("Hi")
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
