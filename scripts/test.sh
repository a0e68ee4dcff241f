#!/usr/bin/env bash
# The test command: installs dependencies, builds in release mode (with the Open MPI backend)
# and runs the whole test suite, including cross-process TCP/MPI tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh
swift build -c release --traits MPI
swift test -c release --traits MPI -Xswiftc -enable-testing
