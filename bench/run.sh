#!/usr/bin/env bash
# The one command that runs the benchmark (selective scan, decode step,
# causal conv1d and gated RMSNorm),
# on the GPU machine:
#   bench/run.sh [kernel-dir]        (default: build/bench-kernels)
# kernel-dir holds every spec of bench/specs compiled by
# test/gpu/build_kernels.sh (bench_s*.json: scans, bench_dec_*.json: decode
# steps, bench_conv_*.json: conv1d, bench_norm_*.json: norm). Builds the runtime-only tree in build-gpu/ (SSMC_NLOHMANN_INCLUDE_DIR,
# if set, names a directory holding nlohmann/json.hpp), runs ssmc-scan-bench
# and tees its Markdown report to bench/results/<date>-<gpu>.md. Times never
# fail the run; errors do.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
kernels=$(realpath "${1:-$root/build/bench-kernels}")
build=$root/build-gpu
mkdir -p "$build" "$root/bench/results"

"$root/scripts/build_runtime.sh" "$build" "$build/bench-build.log" \
  ssmc-scan-bench ssmc-ssd-bench

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null |
      head -n 1 | tr -cs 'A-Za-z0-9' '-' | sed 's/-$//' || true)
report=$root/bench/results/$(date -u +%Y-%m-%d-%H%M)-${gpu:-gpu}.md
# A run that fails (no GPU, a CUDA error, a missing kernel) leaves no report
# in bench/results; its output was shown above.
if ! { "$build/bin/ssmc-scan-bench" --require-gpu "$kernels" | tee "$report" &&
       "$build/bin/ssmc-ssd-bench" --require-gpu "$kernels" |
         tee -a "$report"; }; then
  rm -f "$report"
  echo "benchmark failed: no report written"
  exit 1
fi
echo "report: $report"
