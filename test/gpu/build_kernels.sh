#!/usr/bin/env bash
# Compiles every spec of a directory with ssmc (on the CPU machine):
#   build_kernels.sh <ssmc> <outdir> [specs-dir]
# specs-dir defaults to test/gpu/specs (the selective scans gpu_*.json, the
# decode steps step_*.json, the conv1d layers conv_*.json and the gated
# RMSNorm layers norm_*.json: one kernel dir serves the four GPU test
# binaries);
# bench/specs holds the benchmark's.
# Every spec is attempted, as many at once as there are cores; the exit
# status is non-zero if any failed.
set -uo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 <ssmc> <outdir> [specs-dir]" >&2
  exit 2
fi
ssmc=$1
outdir=$2
specs=${3:-$(dirname "$0")/specs}

mkdir -p "$outdir" || exit 1
shopt -s nullglob
all=("$specs"/*.json)
count=${#all[@]}
failures=$(mktemp)
trap 'rm -f "$failures"' EXIT
# One ssmc a core (SSMC_JOBS): a spec of one target compiles on one thread.
printf '%s\0' "${all[@]}" |
  xargs -0 -r -P "${SSMC_JOBS:-$(nproc)}" -I{} sh -c '
    echo "ssmc $1"
    "$2" "$1" -o "$3" || { echo "error: ssmc failed on $1" >&2; echo "$1" >> "$4"; }
  ' sh {} "$ssmc" "$outdir" "$failures"
failed=$(wc -l < "$failures")
echo "$((count - failed)) of $count specs compiled into $outdir"
[[ $count -gt 0 && $failed -eq 0 ]]
