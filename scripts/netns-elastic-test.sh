#!/usr/bin/env bash
# Elastic training across two hosts: two network namespaces joined by a veth pair (10.77.0.1 and
# 10.77.0.2, as scripts/netns-test.sh) each run `trident launch --nnodes 1:2 --max-restarts 2`
# of `trident train --dp auto --save DIR --resume auto --global-batch G` (the tiny fixture, random
# init; the namespaces share the filesystem, so DIR is shared).
#  1. node 1's worker is killed once a checkpoint exists: node 1 leaves, node 0 goes on alone
#     (DP 2 -> DP 1) from the last checkpoint (the time from the kill to the next finished step is
#     printed);
#  2. node 1's launcher is started again: it registers and waits; node 0's worker is then killed:
#     the restart admits node 1 (DP 1 -> DP 2) and the run finishes.
# The losses of every step and the final weights must equal an uninterrupted one-process run's
# (same --global-batch) within 1e-5 relative; no process, listening port or shared-memory segment
# of the job may remain. Needs root. Usage: scripts/netns-elastic-test.sh [path/to/trident]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
trident="${1:-$root/.build/debug/trident}"
[ -x "$trident" ] || { echo "netns-elastic-test: no trident binary at $trident (build first)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "netns-elastic-test: must run as root (creates network namespaces)" >&2; exit 2; }
[ -f "$root/models/LICENSE.txt" ] || { echo "netns-elastic-test: needs models/LICENSE.txt as training text" >&2; exit 2; }

suffix="$$"
ns0="trident-ea-$suffix"; ns1="trident-eb-$suffix"
veth0="tea$suffix"; veth1="teb$suffix"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  ip netns del "$ns0" 2>/dev/null || true
  ip netns del "$ns1" 2>/dev/null || true
  rm -rf "$work"
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

export TRIDENT_SECRET="elastic-$suffix-$RANDOM$RANDOM"
export TRIDENT_ELASTIC_LAST_CALL=10   # both nodes start together: the first round waits for both
shm_before="$(ls /dev/shm | grep '^trident-' | sort || true)"
train=(train --model "$root/Tests/Fixtures/tiny-llama-f32.gguf" --data "$root/models/LICENSE.txt" --init random --seed 7
       --seq-len 128 --micro-batch 4 --global-batch 64 --lr 1e-3 --shuffle --clip-norm 1 --steps 12 --threads 1 --json)
status=0
fail() { echo "netns-elastic-test: $*" >&2; status=1; }

# The reference: one process, no interruption.
"$trident" "${train[@]}" --save "$work/ref" > "$work/ref.log" 2> "$work/ref.err" || { cat "$work/ref.err" >&2; fail "reference run failed"; }

start_node() { # node-rank namespace log -> pid in $node_pid
  TRIDENT_HOST_ID="netns-node-$1" ip netns exec "$2" "$trident" launch --nnodes 1:2 --nproc 1 --max-restarts 2 \
    --node-rank "$1" --master-addr 10.77.0.1 --master-port 29601 -- \
    "$trident" "${train[@]}" --dp auto --save "$work/run" --save-every 2 --resume auto >> "$3" 2>&1 &
  node_pid=$!
  pids+=("$node_pid")
}
wait_for() { # seconds command...: polls every 20 ms
  local limit=$(( $1 * 50 )); shift
  for _ in $(seq "$limit"); do "$@" && return 0; sleep 0.02; done
  return 1
}
worker_of() { ps -o pid= --ppid "$1" | head -n 1 | tr -d ' '; }
has_checkpoint() { [ -f "$work/run/latest" ]; }
step_after() { # log marker: a step line after the marker line
  awk -v m="$2" 'index($0, m) {f=1} f && /^\[rank 0\] \{.*"step"/ {found=1} END {exit !found}' "$1"
}

log0="$work/node0.log"; log1="$work/node1.log"
start_node 1 "$ns1" "$log1"; node1=$node_pid
start_node 0 "$ns0" "$log0"; node0=$node_pid

# 1. Kill node 1's worker once a checkpoint exists.
wait_for 60 has_checkpoint || fail "no checkpoint appeared"
victim="$(worker_of "$node1")"
[ -n "$victim" ] || fail "no worker under node 1's launcher"
killed_at="$(date +%s.%N)"
kill -KILL "$victim"
if wait_for 60 step_after "$log0" "round 1:"; then
  resumed_at="$(date +%s.%N)"
  echo "netns-elastic-test: node 1's worker killed at $(cat "$work/run/latest"); training progressed again on node 0 after $(python3 -c "print(f'{$resumed_at - $killed_at:.2f}')") s"
else
  fail "node 0 did not progress after the restart"
fi
wait "$node1" && fail "node 1's launcher should fail after its worker was killed" || true
grep -q "this node left the elastic job" "$log1" || fail "node 1 did not say it left"

# 2. Node 1 comes back; it is admitted at the next restart (node 0's worker killed).
start_node 1 "$ns1" "$log1"; node1=$node_pid
if wait_for 30 grep -q "registered; it waits for the next restart" "$log0"; then
  victim="$(worker_of "$node0")"
  if [ -n "$victim" ] && kill -KILL "$victim" 2>/dev/null; then
    wait_for 60 step_after "$log0" "round 2:" || fail "no step after the second restart"
  else
    echo "netns-elastic-test: the run ended before node 0's worker could be killed (second scenario skipped)"
  fi
else
  fail "node 1 did not register again"
fi
wait "$node0" || fail "node 0's launcher failed"
wait "$node1" || fail "node 1's launcher failed after it came back"
pids=()
cat "$log0" "$log1"

# Restarts logged with their reasons and sizes.
grep -q "restart 1 of at most 2: rank 1 was killed by signal 9 (SIGKILL) on node 1 .*world size 2 -> 1" "$log0" \
  || fail "restart 1 not logged with its reason and world sizes"
grep -q "layout --tp 1 --pp 1 --dp 1" "$log0" || fail "the shrunk layout was not printed"
grep -q "resumed from .*saved on --tp 1 --pp 1 --dp 2 --zero 0, now --tp 1 --pp 1 --dp 1" "$log0" || fail "the resume did not log the old and new layouts"
if grep -q "round 2:" "$log0"; then
  grep -q "restart 2 of at most 2: rank 0 was killed by signal 9 (SIGKILL) on node 0 .*world size 1 -> 2" "$log0" \
    || fail "restart 2 not logged with node 1 admitted"
  grep -q "^\[rank 1\] .*\"step\"" "$log1" || grep -q "node rank 1 of 2" "$log1" || fail "node 1 did not run after admission"
fi

# Losses of every step (each time it ran) and final weights equal the reference within 1e-5.
python3 - "$work/ref.log" "$log0" "$work/ref/model.gguf" "$work/run/model.gguf" <<'EOF' || fail "results differ from the uninterrupted run"
import json, sys
import numpy as np
from gguf import GGUFReader
def losses(path, prefix):
    out = []
    for line in open(path):
        line = line.strip()
        if line.startswith(prefix): line = line[len(prefix):]
        if line.startswith('{"step"') or (line.startswith('{') and '"loss"' in line and '"step"' in line):
            o = json.loads(line); out.append((o["step"], o["loss"]))
    return out
ref = dict(losses(sys.argv[1], ""))
run = losses(sys.argv[2], "[rank 0] ")
assert sorted(ref) == list(range(1, 13)), ref
assert {s for s, _ in run} == set(range(1, 13)), run
worst = max(abs(l - ref[s]) / abs(ref[s]) for s, l in run)
a = {t.name: np.array(t.data, dtype=np.float64) for t in GGUFReader(sys.argv[3]).tensors}
b = {t.name: np.array(t.data, dtype=np.float64) for t in GGUFReader(sys.argv[4]).tensors}
assert a.keys() == b.keys()
wdiff = max(np.abs(a[k] - b[k]).max() / max(np.abs(a[k]).max(), 1e-30) for k in a)
print(f"netns-elastic-test: {len(run)} step losses, worst relative difference {worst:.2e}; weights worst max|diff|/max|w| {wdiff:.2e}")
sys.exit(0 if worst <= 1e-5 and wdiff <= 1e-5 else 1)
EOF

# Nothing of the job remains: processes, listening ports, shared-memory segments.
sleep 0.5
left=""
for environ in /proc/[0-9]*/environ; do
  pid="${environ#/proc/}"; pid="${pid%/environ}"
  [ "$pid" = "$$" ] && continue
  grep -qa "TRIDENT_SECRET=$TRIDENT_SECRET" "$environ" 2>/dev/null || continue
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "$trident" && left="$left $pid"
done
[ -z "$left" ] || fail "processes of the job remain:$left"
for ns in "$ns0" "$ns1"; do
  listening="$(ip netns exec "$ns" ss -Hltn 2>/dev/null || true)"
  [ -z "$listening" ] || fail "ports still listening in $ns: $listening"
done
shm_after="$(ls /dev/shm | grep '^trident-' | sort || true)"
new_shm="$(comm -13 <(echo "$shm_before") <(echo "$shm_after") | grep . || true)"
[ -z "$new_shm" ] || fail "shared-memory segments remain: $new_shm"

if [ "$status" = 0 ]; then echo "netns-elastic-test: PASSED (shrink 2 -> 1 node and grow back, results equal the uninterrupted run)"; else echo "netns-elastic-test: FAILED" >&2; fi
exit "$status"
