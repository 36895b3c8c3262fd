#!/usr/bin/env bash
# Builds everything (scripts/setup.sh) and runs all CPU-side tests: the lit IR
# tests and the GoogleTest units, through ctest. GPU tests live in test/gpu/
# and run on a GPU machine with test/gpu/run.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
ctest --test-dir "${SSMC_BUILD_DIR:-$root/build}" --output-on-failure -j "$(nproc)"
