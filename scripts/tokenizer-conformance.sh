#!/usr/bin/env bash
# Runs llama.cpp's tokenizer conformance files against Trident's tokenizer and prints
# "vocab | cases | passed". DIR is llama.cpp's models/ folder (ggml-vocab-*.gguf with
# .gguf.inp/.gguf.out; not committed here). Uses the same build flags as scripts/test.sh.
#   scripts/tokenizer-conformance.sh /path/to/llama.cpp/models
set -euo pipefail
dir="${1:?usage: $0 LLAMA_CPP_MODELS_DIR}"
[ -d "$dir" ] || { echo "error: '$dir' is not a directory" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
TRIDENT_LLAMA_VOCAB_DIR="$(cd "$dir" && pwd)" \
  swift test -c release --traits MPI -Xswiftc -enable-testing --filter LlamaVocabConformanceTests 2>&1 |
  grep -E '^\| |FAIL|want|got|passed after|failed after'
