#!/usr/bin/env bash
# The one command that runs the GPU tests, on the GPU machine:
#   test/gpu/run.sh [kernel-dir]        (default: build/gpu-kernels)
# kernel-dir holds every spec of test/gpu/specs compiled by build_kernels.sh:
# the selective scans (gpu_*.json, run by ssmc-gpu-test), the decode steps
# (step_*.json, run by ssmc-gpu-step-test), the causal conv1d layers
# (conv_*.json, run by ssmc-gpu-conv-test), the SSD scans (ssd_*.json, run
# by ssmc-gpu-ssd-test) and the gated RMSNorm layers (norm_*.json, run by
# ssmc-gpu-norm-test); each binary skips the others'. Where kernel-dir also
# holds ssm-tune's candidates (build_tune_kernels.sh, in tune-specs/), every
# candidate's quick cases run too, and ssmc-tune-run times each set.
# Builds the runtime-only tree in build-gpu/ (SSMC_NLOHMANN_INCLUDE_DIR, if
# set, names a directory holding nlohmann/json.hpp), runs every case of the
# five, then their quick cases under compute-sanitizer memcheck and
# racecheck. Logs go to $SSMC_TEST_LOG_DIR (default build-gpu/gpu-test-logs).
# The last line is "N passed, N failed", summed over the runs, where a run
# that exits non-zero without a failed case (a sanitizer report, a crash, no
# GPU) counts as one failure. Exits non-zero if anything failed.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
kernels=$(realpath "${1:-$root/build/gpu-kernels}")
build=$root/build-gpu
logs=${SSMC_TEST_LOG_DIR:-$build/gpu-test-logs}
mkdir -p "$build" "$logs"

# The test binaries as LOG:BINARY; the selective scan's runs log as "full",
# "memcheck" and "racecheck", the others' as NAME, NAME-memcheck, ...
suites=(full:ssmc-gpu-test step:ssmc-gpu-step-test conv:ssmc-gpu-conv-test
        ssd:ssmc-gpu-ssd-test norm:ssmc-gpu-norm-test)
"$root/scripts/build_runtime.sh" "$build" "$logs/build.log" \
  "${suites[@]#*:}" ssmc-tune-run

passed=0
failed=0
# run_step NAME SHOW COMMAND...: runs COMMAND into $logs/NAME.log, showing all
# of its output (SHOW=all) or all but the PASS lines (SHOW=problems), and adds
# its "N passed, N failed" line to the totals.
run_step() {
  local name=$1 show=$2
  shift 2
  echo "== $name: $*"
  local rc
  set +e
  if [[ $show == all ]]; then
    "$@" 2>&1 | tee "$logs/$name.log"
  else
    "$@" 2>&1 | tee "$logs/$name.log" | grep -v '^PASS '
  fi
  rc=${PIPESTATUS[0]}
  set -e
  local summary p=0 f=0
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logs/$name.log" |
            tail -n 1 || true)
  if [[ -n $summary ]]; then
    read -r p _ f _ <<< "$summary"
  fi
  if [[ $rc -ne 0 && $f -eq 0 ]]; then
    echo "$name: exit status $rc"
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
}

for suite in "${suites[@]}"; do
  run_step "${suite%%:*}" all "$build/bin/${suite#*:}" --require-gpu "$kernels"
done

tune=$kernels/tune-specs
if [[ -d $tune ]]; then
  run_step tune all "$build/bin/ssmc-gpu-test" --require-gpu --quick \
    --specs "$tune" "$kernels"
  run_step tune-ssd all "$build/bin/ssmc-gpu-ssd-test" --require-gpu --quick \
    --specs "$tune" "$kernels"
  for candidates in "$tune"/*_tune.json; do
    name=$(basename "$candidates" _tune.json)
    run_step "tune-run-$name" all "$build/bin/ssmc-tune-run" --require-gpu \
      "$kernels" --candidates "$candidates" --spec "$root/test/gpu/specs/$name.json" \
      --batch 2 --len 1000 -o "$logs/$name.tuned.json"
  done
fi

sanitizer=$(command -v compute-sanitizer || true)
if [[ -z $sanitizer && -x /usr/local/cuda/bin/compute-sanitizer ]]; then
  sanitizer=/usr/local/cuda/bin/compute-sanitizer
fi
if [[ -z $sanitizer ]]; then
  echo "compute-sanitizer not found"
  failed=$((failed + 1))
else
  for tool in memcheck racecheck; do
    command=("$sanitizer" --tool "$tool" --error-exitcode 3)
    [[ $tool == memcheck ]] && command+=(--leak-check full)
    for suite in "${suites[@]}"; do
      name=${suite%%:*}-$tool
      [[ $name == full-* ]] && name=$tool
      run_step "$name" problems "${command[@]}" \
        "$build/bin/${suite#*:}" --require-gpu --quick "$kernels"
    done
  done
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
