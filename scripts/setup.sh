#!/usr/bin/env bash
# Installs what Trident's build and tests need on a fresh Debian machine (Open MPI, pkg-config,
# iproute2 for the two-host test) and fetches the default model. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
need=()
command -v mpirun >/dev/null 2>&1 || need+=(openmpi-bin)
pkg-config --exists ompi-c 2>/dev/null || need+=(libopenmpi-dev pkg-config)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "setup: please install: ${need[*]} (needs root)" >&2
    exit 1
  fi
fi
"$root/scripts/fetch-model.sh"
