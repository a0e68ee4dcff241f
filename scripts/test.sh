#!/usr/bin/env bash
# The test command: installs dependencies, builds in release mode (with the Open MPI backend)
# and runs the whole test suite, including cross-process TCP/MPI tests and the two-host
# (network namespace) test when run as root.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh
# One build serves both: the CLI binary the integration tests drive and the test bundle.
flags=(-c release --traits MPI -Xswiftc -enable-testing)
swift build "${flags[@]}"
swift test "${flags[@]}" --skip 'TridentServerTests|ServeCLITests'
# The HTTP server suites run in their own pass, one test at a time: in one process with the
# other suites, tests that block waiting on child processes can hold every cooperative thread
# of a 2-core machine, which the in-process server's request handlers need.
swift test "${flags[@]}" --no-parallel --filter 'TridentServerTests|ServeCLITests'
# Two hosts: needs root and permission to create network namespaces.
probe="trident-probe-$$"
if [ "$(id -u)" = 0 ] && ip netns add "$probe" 2>/dev/null; then
  ip netns del "$probe"
  scripts/netns-test.sh .build/release/trident
  # Elastic training across the two hosts: a node lost and regained (about a minute).
  scripts/netns-elastic-test.sh .build/release/trident
else
  echo "netns-test: skipped (needs root and network namespaces)"
fi
# The chaos suite in its bounded form (one trial per scenario, under a minute): random rank
# kills and freezes, a killed launcher, hostile connections; see the README's Reliability section.
scripts/chaos.sh --trials 1
