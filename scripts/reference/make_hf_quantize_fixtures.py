#!/usr/bin/env python3
"""
make_hf_quantize_fixtures.py -- complete tiny Hugging Face model directories (weights, config,
tokenizer.json, tokenizer_config.json with a chat template) for `trident quantize DIR OUT`:

    /work/refs/venv/bin/python scripts/reference/make_hf_quantize_fixtures.py --out Tests/Fixtures/hf-quantize

  llama-bpe/   Llama, F32, untied lm_head, the byte-level BPE tokenizer of Tests/Fixtures/tokenizers/bpe-llama3
  qwen2-bpe/   Qwen2, BF16, tied embeddings, q/k/v biases, the tokenizer of Tests/Fixtures/tokenizers/bpe-qwen2
  mistral-spm/ Mistral, F16, the SentencePiece-style tokenizer of Tests/Fixtures/tokenizers/spm-legacy.json

Random weights (seeded); vocab_size is the tokenizer's size (mistral-spm: 8 more, so the
GGUF token list is padded as convert_hf_to_gguf.py pads it). Only the outputs are committed.
"""
import argparse, json, os, shutil
import torch
import transformers as tf

TOKENIZERS = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "tokenizers")
TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"


def make(kind, dtype, vocab, seed, **extra):
    config = tf.AutoConfig.for_model(kind, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                     num_attention_heads=4, num_key_value_heads=2, vocab_size=vocab,
                                     max_position_embeddings=128, rms_norm_eps=1e-5, **extra)
    torch.manual_seed(seed)
    model = tf.AutoModelForCausalLM.from_config(config).float()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and "norm" in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))
    return model.to(dtype).eval()


def save(model, directory, tokenizer_json, tokenizer_config):
    if os.path.exists(directory):
        shutil.rmtree(directory)
    model.save_pretrained(directory)
    gen = os.path.join(directory, "generation_config.json")
    if os.path.exists(gen):
        os.remove(gen)
    shutil.copy(tokenizer_json, os.path.join(directory, "tokenizer.json"))
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config, f, indent=1)


def size(tokenizer_json):
    j = json.load(open(tokenizer_json))
    return max(list(j["model"]["vocab"].values()) + [t["id"] for t in j["added_tokens"]]) + 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    bpe_config = {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>", "pad_token": "<|eot_id|>",
                  "add_bos_token": True, "chat_template": TEMPLATE}
    llama_tok = os.path.join(TOKENIZERS, "bpe-llama3", "tokenizer.json")
    save(make("llama", torch.float32, size(llama_tok), 11, tie_word_embeddings=False, rope_theta=500000.0),
         os.path.join(out, "llama-bpe"), llama_tok, bpe_config)
    qwen_tok = os.path.join(TOKENIZERS, "bpe-qwen2", "tokenizer.json")
    save(make("qwen2", torch.bfloat16, size(qwen_tok), 12, tie_word_embeddings=True, rope_theta=1000000.0,
              use_sliding_window=False), os.path.join(out, "qwen2-bpe"), qwen_tok,
         dict(bpe_config, add_bos_token=False))
    spm_tok = os.path.join(TOKENIZERS, "spm-legacy.json")
    save(make("mistral", torch.float16, size(spm_tok) + 8, 13, tie_word_embeddings=False, rope_theta=10000.0,
              sliding_window=4096), os.path.join(out, "mistral-spm"), spm_tok,
         {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True,
          "add_eos_token": False, "chat_template": "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"})
    for name in sorted(os.listdir(out)):
        if os.path.isdir(os.path.join(out, name)):
            print(name, sorted(os.listdir(os.path.join(out, name))))


if __name__ == "__main__":
    main()
