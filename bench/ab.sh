#!/usr/bin/env bash
# A/B timing of kernel variants, on the GPU machine:
#   bench/ab.sh [--rounds N] <kernel-dir>...
# Each kernel-dir holds bench specs compiled by test/gpu/build_kernels.sh
# with one variant of ssmc (a subset of bench/specs is fine: rows whose
# kernels are missing are left out). Runs ssmc-scan-bench and ssmc-ssd-bench
# on every dir in turn, N rounds (default 2: A B A B, so that drift shows),
# and prints per dir and round one line of "row: time" pairs, the row named
# by the report's columns before its time. The reports go to
# $SSMC_AB_LOG_DIR (default build-gpu/ab-logs). Builds the runtime-only tree
# in build-gpu/ as bench/run.sh does.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
rounds=2
if [[ ${1:-} == --rounds ]]; then
  rounds=$2
  shift 2
fi
if [[ $# -lt 1 ]]; then
  echo "usage: $0 [--rounds N] <kernel-dir>..." >&2
  exit 2
fi
build=$root/build-gpu
logs=${SSMC_AB_LOG_DIR:-$build/ab-logs}
mkdir -p "$build" "$logs"
"$root/scripts/build_runtime.sh" "$build" "$logs/build.log" \
  ssmc-scan-bench ssmc-ssd-bench

# The rows of a report as "label: time unit;", the time being the column
# headed "ms" or "µs" of each table (a header is the line before a |---|
# separator; a row is held until the next line shows it is not a header).
rows() {
  awk -F'|' '
    function header(line,   f, n, i, h) {
      n = split(line, f, "|"); col = 0
      for (i = 2; i < n; ++i) {
        h = f[i]; gsub(/ /, "", h)
        if (h == "ms" || h == "µs") { col = i; unit = h; return }
      }
    }
    function row(line,   f, n, i, label, t) {
      if (!col) return
      n = split(line, f, "|"); label = ""
      for (i = 2; i < col; ++i) {
        t = f[i]; gsub(/^ +| +$/, "", t); label = label (i > 2 ? " " : "") t
      }
      t = f[col]; gsub(/ /, "", t)
      printf "%s: %s %s; ", label, t, unit
    }
    /^\|[-|]+$/ { header(held); held = ""; next }
    { if (held != "") row(held); held = /^\| / ? $0 : "" }
    END { if (held != "") row(held); print "" }' "$1"
}

for ((round = 1; round <= rounds; ++round)); do
  for dir in "$@"; do
    name=$(basename "$dir")
    for bench in scan ssd; do
      report=$logs/$name-$round-$bench.md
      # Rows without kernels in the dir make the exit status non-zero.
      "$build/bin/ssmc-$bench-bench" --require-gpu "$dir" > "$report" 2>&1 ||
        true
      line=$(rows "$report")
      [[ -n ${line// /} ]] && echo "$name round $round $bench: $line"
    done
  done
done
echo "reports: $logs"
