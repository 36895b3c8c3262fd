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
# Without a GPU (the benchmarks exit 2) nothing was measured: no report is
# left in bench/results. Other failures keep the report of what ran.
status=0
: > "$report"
for bench in scan ssd; do
  set +e
  "$build/bin/ssmc-$bench-bench" --require-gpu "$kernels" | tee -a "$report"
  rc=${PIPESTATUS[0]}
  set -e
  if [[ $rc -eq 2 ]]; then
    rm -f "$report"
    echo "no GPU: no report written"
    exit 2
  fi
  [[ $rc -eq 0 ]] || status=$rc
done
echo "report: $report"
exit "$status"
