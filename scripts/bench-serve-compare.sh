#!/usr/bin/env bash
# Side-by-side serving benchmark: `trident serve` and llama.cpp's `llama-server` on the same
# model, threads, prompts and max_tokens, each driven by scripts/bench-serve.py at concurrency
# 1, 4 and 16, back to back, alternating ROUNDS times, with the load average before each run.
#
# Usage: scripts/bench-serve-compare.sh            (after swift build -c release)
# Environment: M (model), THREADS (2), ROUNDS (2), CONCURRENCY (1,4,16), REQUESTS (32),
#   MAX_TOKENS (64), LLAMA_SERVER (path), TRIDENT (path), PORT (18080; llama-server gets PORT+1),
#   EXTRA_TRIDENT (more trident serve flags).
set -euo pipefail
cd "$(dirname "$0")/.."
M=${M:-models/SmolLM2-135M-Instruct.Q4_1.gguf}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-2}
CONCURRENCY=${CONCURRENCY:-1,4,16}
REQUESTS=${REQUESTS:-32}
MAX_TOKENS=${MAX_TOKENS:-64}
LLAMA_SERVER=${LLAMA_SERVER:-/work/refs/llama.cpp/build/bin/llama-server}
TRIDENT=${TRIDENT:-.build/release/trident}
PORT=${PORT:-18080}

server_pid=
stop_server() {
    if [[ -n "$server_pid" ]]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
trap stop_server EXIT

wait_healthy() {  # url
    for _ in $(seq 1 600); do
        if curl -sf "$1/health" >/dev/null 2>&1; then return 0; fi
        kill -0 "$server_pid" 2>/dev/null || { echo "server exited" >&2; return 1; }
        sleep 0.1
    done
    echo "server not healthy within 60 s" >&2
    return 1
}

run() {  # label, port, command...
    local label=$1 url=http://127.0.0.1:$2; shift 2
    "$@" >"/tmp/bench-serve-$label.log" 2>&1 &
    server_pid=$!
    wait_healthy "$url"
    echo "# $label  load: $(uptime | sed 's/.*load average: //')"
    python3 scripts/bench-serve.py --url "$url" --label "$label" --concurrency "$CONCURRENCY" \
        --requests "$REQUESTS" --max-tokens "$MAX_TOKENS" --ignore-eos --no-header
    stop_server
}

echo "model $M, $THREADS threads, $REQUESTS requests per level, max_tokens $MAX_TOKENS (ignore_eos), $(nproc) cores"
python3 scripts/bench-serve.py --header-only
for round in $(seq 1 "$ROUNDS"); do
    # shellcheck disable=SC2086
    run trident "$PORT" "$TRIDENT" serve --model "$M" --threads "$THREADS" --port "$PORT" --max-sequences 16 ${EXTRA_TRIDENT:-}
    run llama $((PORT + 1)) "$LLAMA_SERVER" -m "$M" -t "$THREADS" --parallel 16 -c 4096 --port $((PORT + 1)) \
        --host 127.0.0.1
done
