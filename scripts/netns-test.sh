#!/usr/bin/env bash
# Multi-host check of the TCP collectives: two network namespaces joined by a veth pair act
# as two hosts (10.77.0.1 and 10.77.0.2), and `trident launch --nnodes 2` runs one rank in
# each, so traffic crosses a real interface, not loopback. Needs root (CI runs it as root).
# Usage: scripts/netns-test.sh [path/to/trident]   (default: .build/debug/trident)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
trident="${1:-$root/.build/debug/trident}"
[ -x "$trident" ] || { echo "netns-test: no trident binary at $trident (build first)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "netns-test: must run as root (creates network namespaces)" >&2; exit 2; }

suffix="$$"
ns0="trident-a-$suffix"; ns1="trident-b-$suffix"
veth0="tva$suffix"; veth1="tvb$suffix"
cleanup() {
  ip netns del "$ns0" 2>/dev/null || true
  ip netns del "$ns1" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$ns0"
ip netns add "$ns1"
ip link add "$veth0" type veth peer name "$veth1"
ip link set "$veth0" netns "$ns0"
ip link set "$veth1" netns "$ns1"
ip -n "$ns0" addr add 10.77.0.1/24 dev "$veth0"
ip -n "$ns1" addr add 10.77.0.2/24 dev "$veth1"
for ns in "$ns0" "$ns1"; do ip -n "$ns" link set lo up; done
ip -n "$ns0" link set "$veth0" up
ip -n "$ns1" link set "$veth1" up

export TRIDENT_SECRET="netns-$suffix-$RANDOM$RANDOM"
run_node() { # node-rank namespace log
  # Both namespaces share one kernel (and /dev/shm): distinct host ids force TCP.
  TRIDENT_HOST_ID="netns-node-$1" ip netns exec "$2" "$trident" launch --nnodes 2 --nproc 1 --node-rank "$1" \
    --master-addr 10.77.0.1 --master-port 29555 -- \
    "$trident" collective-selftest --counts 0,1,7,4097,300001 > "$3" 2>&1
}
log0="$(mktemp)"; log1="$(mktemp)"
run_node 0 "$ns0" "$log0" & pid0=$!
run_node 1 "$ns1" "$log1" & pid1=$!
status=0
wait "$pid0" || status=1
wait "$pid1" || status=1
cat "$log0" "$log1"
grep -q "^\[rank 0\] selftest ok: rank 0 of 2.*via ring" "$log0" || status=1
grep -q "^\[rank 1\] selftest ok: rank 1 of 2.*via ring" "$log1" || status=1
rm -f "$log0" "$log1"

# Tensor- and pipeline-parallel generation across the two hosts must give the single-rank tokens.
model="$root/models/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -f "$model" ]; then
  gen=(generate --model "$model" --prompt "The capital of France is" --max-tokens 16 --json)
  expected="$("$trident" "${gen[@]}" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"])')"
  gen_node() { # node-rank namespace log port grid...
    local node="$1" ns="$2" log="$3" port="$4"; shift 4
    TRIDENT_HOST_ID="netns-node-$node" ip netns exec "$ns" "$trident" launch --nnodes 2 --nproc 1 --node-rank "$node" \
      --master-addr 10.77.0.1 --master-port "$port" --no-prefix -- "$trident" "${gen[@]}" "$@" --backend tcp > "$log" 2>&1
  }
  check_grid() { # port grid...
    local port="$1"; shift
    log0="$(mktemp)"; log1="$(mktemp)"
    gen_node 0 "$ns0" "$log0" "$port" "$@" & pid0=$!
    gen_node 1 "$ns1" "$log1" "$port" "$@" & pid1=$!
    wait "$pid0" || status=1
    wait "$pid1" || status=1
    got="$(grep '^{' "$log0" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"])' || true)"
    if [ -n "$got" ] && [ "$got" = "$expected" ]; then
      echo "netns-test: generation with $* across the veth pair matches one rank: $got"
    else
      echo "netns-test: generation with $* differs: expected $expected, got '$got'" >&2
      cat "$log0" "$log1" >&2
      status=1
    fi
    rm -f "$log0" "$log1"
  }
  check_grid 29556 --tp 2
  check_grid 29557 --pp 2
fi

if [ "$status" = 0 ]; then echo "netns-test: PASSED (2 ranks across a veth pair)"; else echo "netns-test: FAILED" >&2; fi
exit "$status"
