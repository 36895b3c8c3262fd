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
if ((count == 0)); then
  echo "error: no specs in $specs" >&2
  exit 1
fi
compiled=$(mktemp)
trap 'rm -f "$compiled"' EXIT
# One ssmc a core (SSMC_JOBS): a spec of one target compiles on one thread.
# Each job prints its log in one piece; what counts is the specs compiled.
printf '%s\0' "${all[@]}" |
  xargs -0 -P "${SSMC_JOBS:-$(nproc)}" -I{} sh -c '
    log=$("$2" "$1" -o "$3" 2>&1); status=$?
    out="ssmc $1"
    [ -z "$log" ] || out="$out
$log"
    if [ $status -eq 0 ]; then
      echo "$out"
      echo "$1" >> "$4"
    else
      echo "$out
error: ssmc failed on $1" >&2
    fi
  ' sh {} "$ssmc" "$outdir" "$compiled"
done=$(wc -l < "$compiled")
echo "$done of $count specs compiled into $outdir"
[[ $done -eq $count ]]
