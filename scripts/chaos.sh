#!/usr/bin/env bash
# Chaos suite for process and network faults of TCP jobs.
#
#   scripts/chaos.sh [--trials N] [--seed S] [--binary PATH] [--verbose]
#
# For `--tp 2` and `--pp 2` (SmolLM2 when present, else the 6-layer tiny fixture) and
# `--tp 2 --pp 2 --prompts-file` (tiny fixture) over TCP it kills (SIGKILL) or freezes
# (SIGSTOP) a random rank at a random moment of the run (loading, prefill, decode), N times
# each; it kills the launcher N times; it opens idle and garbage connections to every port
# the job listens on, N times. After each trial it checks:
#   - a faulted job exits non-zero, its last line naming the faulted rank, within 15 s;
#   - a killed launcher leaves no worker behind after 5 s;
#   - no process of the job, no listening port and no /dev/shm/trident-* segment remains;
#   - a run the fault did not touch (it ended first, or only hostile connections) is
#     byte-identical to a clean run and exits 0.
# Prints one summary line per scenario and `N passed, M failed`; exits 1 on any failure.
# Default: 4 trials per scenario (a few minutes on 2 cores).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
trials=4 seed=$$ binary="$root/.build/release/trident" verbose=0 landed=0 world=2
while [ $# -gt 0 ]; do
  case "$1" in
    --trials) trials="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --verbose) verbose=1; shift ;;
    -h|--help) sed -n 2,18p "$0"; exit 0 ;;
    *) echo "chaos.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$trials" =~ ^[1-9][0-9]*$ ]] || { echo "chaos.sh: --trials must be a positive integer" >&2; exit 2; }
[ -x "$binary" ] || { echo "chaos.sh: no trident binary at $binary (swift build -c release)" >&2; exit 2; }
RANDOM=$seed
work="$(mktemp -d /tmp/trident-chaos.XXXXXX)"
trap 'rm -rf "$work"' EXIT
tiny=Tests/Fixtures/tiny-llama-q8_0.gguf tiny6=Tests/Fixtures/tiny-llama-6l-q8_0.gguf
smol=models/SmolLM2-135M-Instruct.Q4_1.gguf
for i in $(seq 1 64); do echo "Prompt number $i is about"; done > "$work/prompts.txt"
# A rank frozen before the job has formed is caught by the forming deadline (then 10 s liveness).
export TRIDENT_RDZV_TIMEOUT=8
passed=0 failed=0
summary=()

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

# Worker pids of launcher $1 (they carry TRIDENT_LAUNCHER_PID=$1), one per line: "pid rank".
workers_of() {
  local pid env
  for env in /proc/[0-9]*/environ; do
    pid=${env#/proc/}; pid=${pid%/environ}
    if { tr '\0' '\n' < "$env"; } 2>/dev/null | grep -qx "TRIDENT_LAUNCHER_PID=$1"; then
      echo "$pid $({ tr '\0' '\n' < "$env"; } 2>/dev/null | sed -n 's/^RANK=//p')"
    fi
  done
}

# Direct children of launcher $1 (its workers, quick to find), one per line: "pid rank".
children_of() {
  local pid
  for pid in $(pgrep -P "$1"); do
    echo "$pid $({ tr '\0' '\n' < "/proc/$pid/environ"; } 2>/dev/null | sed -n 's/^RANK=//p')"
  done
}

# Listening TCP ports of the given pids.
ports_of() {
  local pids="$*" pattern
  [ -z "$pids" ] && return
  pattern="pid=($(echo $pids | tr ' ' '|')),"
  ss -ltnpH 2>/dev/null | grep -E "$pattern" | awk '{print $4}' | sed 's/.*://' | sort -u
}

# Opens 3 idle and 3 garbage connections to each port in $@ (held for 3 s, in the background).
hostile() {
  python3 - "$@" <<'PY' &
import socket, sys, time
held = []
for port in sys.argv[1:]:
    for kind in ["idle"] * 3 + ["garbage"] * 3:
        try:
            s = socket.create_connection(("127.0.0.1", int(port)), timeout=1)
            if kind == "garbage":
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(range(256)) * 4)
            held.append(s)
        except OSError:
            pass
time.sleep(3)
PY
}

# Segments under /dev/shm of the job with secret $1 and master port $2 (named
# trident-<job key>-<group>, job key = mix(FNV-1a(secret), port) as in SharedMemoryJob).
job_segments() {
  local prefix
  prefix=$(python3 - "$1" "$2" <<'PY'
import sys
M = (1 << 64) - 1
h = 14695981039346656037
for b in sys.argv[1].encode():
    h = ((h ^ b) * 1099511628211) & M
k = 0x9E3779B97F4A7C15
for v in (h, int(sys.argv[2])):
    k = ((k ^ v) * 0xBF58476D1CE4E5B9) & M
    k = ((k ^ (k >> 27)) * 0x94D049BB133111EB) & M
    k ^= k >> 31
print("trident-%x-" % k)
PY
)
  find /dev/shm -maxdepth 1 -name "$prefix*" 2>/dev/null
}

# MASTER_PORT of process $1.
port_of() { { tr '\0' '\n' < "/proc/$1/environ"; } 2>/dev/null | sed -n 's/^MASTER_PORT=//p'; }

# Runs the scenario command once cleanly; stores stdout in $work/$1.clean and its duration.
clean_run() {
  local name="$1"; shift
  local start; start=$(now)
  "$binary" "$@" > "$work/$name.clean" 2> "$work/$name.clean.err" || { echo "clean run of $name failed:"; cat "$work/$name.clean.err"; exit 1; }
  clean_seconds=$(elapsed "$start")
}

# One fault trial. $1 scenario name, $2 fault (kill|freeze|launcher|hostile), rest: command.
# Sets $verdict ("ok" or a reason) and $detect (seconds from fault to launcher exit).
trial() {
  local name="$1" fault="$2"; shift 2
  local started; started=$(now)
  export TRIDENT_SECRET="chaos-$seed-$RANDOM$RANDOM"   # names the job's segments (with its port)
  "$binary" "$@" > "$work/out" 2> "$work/err" &
  local launcher=$! delay victim="" rank="" port="" faulted=0 fault_at status pids
  local permille=$((RANDOM % 1000))
  delay=$(echo "scale=3; $permille / 1000 * $clean_seconds * 0.95 + 0.02" | bc)
  sleep "$delay"
  mapfile -t pids < <(children_of "$launcher")
  local tries=0   # not spawned yet: the fault lands as soon as they are (while loading)
  while [ "${#pids[@]}" -lt "$world" ] && kill -0 "$launcher" 2>/dev/null && [ "$tries" -lt 40 ]; do
    sleep 0.025; tries=$((tries + 1)); mapfile -t pids < <(children_of "$launcher")
  done
  if [ "${#pids[@]}" -gt 0 ] && kill -0 "$launcher" 2>/dev/null; then
    local pick="${pids[$((RANDOM % ${#pids[@]}))]}"
    victim=${pick% *}; rank=${pick#* }
    port=$(port_of "$victim")
    fault_at=$(now)
    case "$fault" in
      kill) kill -KILL "$victim" 2>/dev/null && faulted=1 ;;
      freeze) kill -STOP "$victim" 2>/dev/null && faulted=1 ;;
      launcher) kill -KILL "$launcher" 2>/dev/null && faulted=1 ;;
      hostile) hostile $(ports_of $(printf '%s\n' "${pids[@]}" | cut -d' ' -f1)); faulted=2 ;;
    esac
  fi
  local waited=0
  while kill -0 "$launcher" 2>/dev/null && [ "$waited" -lt 400 ]; do sleep 0.05; waited=$((waited + 1)); done
  if kill -0 "$launcher" 2>/dev/null; then kill -KILL "$launcher"; verdict="launcher still running after 20 s"; fi
  wait "$launcher" 2>/dev/null; status=$?
  detect=$([ "$faulted" = 1 ] && elapsed "$fault_at" || echo 0)
  landed=$faulted
  [ "$verbose" = 1 ] && echo "  $name $fault rank=${rank:--} after ${delay}s: exit $status, $([ "$faulted" = 1 ] && echo "failure reported in ${detect}s" || echo untouched); last: $(grep -v '^\s*$' "$work/err" | tail -1)"
  [ -n "${verdict:-}" ] && return
  if [ "$fault" = launcher ] && [ "$faulted" = 1 ]; then
    local left=1 i
    for i in $(seq 1 50); do [ -z "$(workers_of "$launcher")" ] && { left=0; break; }; sleep 0.1; done
    detect=$(elapsed "$fault_at")
    [ "$left" = 1 ] && { verdict="workers outlived the launcher by 5 s: $(workers_of "$launcher" | tr '\n' ' ')"
                         for p in $(workers_of "$launcher" | cut -d' ' -f1); do kill -KILL "$p"; done; return; }
  elif [ "$faulted" = 1 ]; then
    local last; last=$(grep -v '^\s*$' "$work/err" | tail -1)
    if [ "$status" = 0 ] && cmp -s "$work/out" "$work/$name.clean"; then
      :   # the fault landed as the job was ending (after its last message): nothing was lost
    elif [ "$status" = 0 ]; then verdict="exit 0 after a $fault of rank $rank, output differs"; return
    elif ! grep -qE "^trident: error: rank $rank " <<< "$last"; then verdict="last line does not name rank $rank: $last"; return
    elif (( $(echo "$detect > 15" | bc) )); then verdict="took $detect s to fail"; return
    fi
  else
    # Untouched (ended before the fault) or only hostile connections: identical to a clean run.
    [ "$status" = 0 ] || { verdict="untouched run exited $status: $(tail -1 "$work/err")"; return; }
    cmp -s "$work/out" "$work/$name.clean" || { verdict="untouched run differs from the clean run"; return; }
    local took; took=$(elapsed "$started")
    (( $(echo "$took > $clean_seconds + 3" | bc) )) && { verdict="run took $took s (clean: $clean_seconds s)"; return; }
  fi
  sleep 0.2
  [ -z "$(workers_of "$launcher")" ] || { verdict="processes left: $(workers_of "$launcher" | tr '\n' ' ')"; return; }
  if [ -n "$port" ]; then
    local segments; segments=$(job_segments "$TRIDENT_SECRET" "$port")
    [ -z "$segments" ] || { verdict="segments left: $segments"; rm -f $segments; return; }
  fi
  if [ -n "$victim" ] && [ "$fault" != hostile ]; then
    [ -z "$(ports_of "$victim")" ] || { verdict="port left open by $victim"; return; }
  fi
  verdict=ok
}

# Runs $trials trials of each fault in $faults for one scenario and records its summary line.
scenario() {
  local name="$1" faults="$2"; world="$3"; shift 3
  clean_run "$name" "$@"
  local ok=0 bad=0 max=0 fault hits=0
  for i in $(seq 1 "$trials"); do
    for fault in $faults; do
      verdict="" detect=0
      trial "$name" "$fault" "$@"
      [ "$landed" = 0 ] || hits=$((hits + 1))
      if [ "$verdict" = ok ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "FAIL $name/$fault #$i: $verdict"; fi
      (( $(echo "$detect > $max" | bc) )) && max=$detect
    done
  done
  passed=$((passed + ok)); failed=$((failed + bad))
  summary+=("$(printf '%-34s %-12s %3d trials %3d landed %3d passed %3d failed  slowest report %5.2f s' \
                "$name" "$faults" "$((ok + bad))" "$hits" "$ok" "$bad" "$max")")
  echo "${summary[-1]}"
}

big=$tiny6
[ -f "$smol" ] && big=$smol
common=(--backend tcp --ignore-eos)
scenario "tp2 ($(basename "$big" .gguf))" "kill freeze" 2 generate --model "$big" --prompt "The capital of France is" --tp 2 --max-tokens 40 "${common[@]}"
scenario "pp2 ($(basename "$big" .gguf))" "kill freeze" 2 generate --model "$big" --prompt "Once upon a time" --pp 2 --max-tokens 40 "${common[@]}"
scenario "tp2 pp2 prompts-file (tiny)" "kill freeze" 4 generate --model "$tiny" --prompts-file "$work/prompts.txt" --tp 2 --pp 2 --max-tokens 100 "${common[@]}"
scenario "launcher killed (tp2 pp2)" "launcher" 4 generate --model "$tiny6" --prompts-file "$work/prompts.txt" --tp 2 --pp 2 --max-tokens 100 "${common[@]}"
scenario "hostile connections (tp2)" "hostile" 2 generate --model "$tiny6" --prompts-file "$work/prompts.txt" --tp 2 --max-tokens 100 "${common[@]}"

echo
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
