#!/usr/bin/env bash
# Builds the runtime-only tree (SSMC_RUNTIME_ONLY: no LLVM/MLIR), for the GPU
# machine's test and benchmark scripts:
#   scripts/build_runtime.sh <build-dir> <log> <target>...
# SSMC_NLOHMANN_INCLUDE_DIR, if set, names a directory holding
# nlohmann/json.hpp. On failure prints the log's tail and exits 1.
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: $0 <build-dir> <log> <target>..." >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=$1
log=$2
shift 2

args=(-S "$root" -B "$build" -G Ninja -DSSMC_RUNTIME_ONLY=ON
      -DSSMC_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release)
if [[ -n ${SSMC_NLOHMANN_INCLUDE_DIR:-} ]]; then
  args+=("-DSSMC_NLOHMANN_INCLUDE_DIR=$(realpath "$SSMC_NLOHMANN_INCLUDE_DIR")")
fi
if ! { cmake "${args[@]}" && ninja -C "$build" "$@"; } > "$log" 2>&1; then
  tail -n 40 "$log"
  echo "build failed (log: $log)"
  exit 1
fi
