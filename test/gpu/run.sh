#!/usr/bin/env bash
# The one command that runs the GPU tests, on the GPU machine:
#   test/gpu/run.sh [kernel-dir]        (default: build/gpu-kernels)
# kernel-dir holds every spec of test/gpu/specs compiled by build_kernels.sh:
# the selective scans (gpu_*.json, run by ssmc-gpu-test), the decode steps
# (step_*.json, run by ssmc-gpu-step-test), the causal conv1d layers
# (conv_*.json, run by ssmc-gpu-conv-test), the SSD scans (ssd_*.json, run
# by ssmc-gpu-ssd-test) and the gated RMSNorm layers (norm_*.json, run by
# ssmc-gpu-norm-test); each binary skips the others'.
# Builds the runtime-only tree in build-gpu/ (SSMC_NLOHMANN_INCLUDE_DIR, if
# set, names a directory holding nlohmann/json.hpp), runs every case of the
# five, then their quick cases under compute-sanitizer memcheck and
# racecheck. Logs go to $SSMC_TEST_LOG_DIR (default build-gpu/gpu-test-logs).
# The last line is "N passed, N failed", summed over the fifteen runs, where a run
# that exits non-zero without a failed case (a sanitizer report, a crash, no
# GPU) counts as one failure. Exits non-zero if anything failed.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
kernels=$(realpath "${1:-$root/build/gpu-kernels}")
build=$root/build-gpu
logs=${SSMC_TEST_LOG_DIR:-$build/gpu-test-logs}
mkdir -p "$build" "$logs"

args=(-S "$root" -B "$build" -G Ninja -DSSMC_RUNTIME_ONLY=ON
      -DSSMC_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release)
if [[ -n ${SSMC_NLOHMANN_INCLUDE_DIR:-} ]]; then
  args+=("-DSSMC_NLOHMANN_INCLUDE_DIR=$(realpath "$SSMC_NLOHMANN_INCLUDE_DIR")")
fi
if ! { cmake "${args[@]}" &&
       ninja -C "$build" ssmc-gpu-test ssmc-gpu-step-test \
         ssmc-gpu-conv-test ssmc-gpu-ssd-test ssmc-gpu-norm-test; } \
    > "$logs/build.log" 2>&1; then
  tail -n 40 "$logs/build.log"
  echo "build failed (log: $logs/build.log)"
  exit 1
fi
test_bin=$build/bin/ssmc-gpu-test
step_bin=$build/bin/ssmc-gpu-step-test
conv_bin=$build/bin/ssmc-gpu-conv-test
ssd_bin=$build/bin/ssmc-gpu-ssd-test
norm_bin=$build/bin/ssmc-gpu-norm-test

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

run_step full all "$test_bin" --require-gpu "$kernels"
run_step step all "$step_bin" --require-gpu "$kernels"
run_step conv all "$conv_bin" --require-gpu "$kernels"
run_step ssd all "$ssd_bin" --require-gpu "$kernels"
run_step norm all "$norm_bin" --require-gpu "$kernels"

sanitizer=$(command -v compute-sanitizer || true)
if [[ -z $sanitizer && -x /usr/local/cuda/bin/compute-sanitizer ]]; then
  sanitizer=/usr/local/cuda/bin/compute-sanitizer
fi
if [[ -z $sanitizer ]]; then
  echo "compute-sanitizer not found"
  failed=$((failed + 1))
else
  memcheck=("$sanitizer" --tool memcheck --leak-check full --error-exitcode 3)
  racecheck=("$sanitizer" --tool racecheck --error-exitcode 3)
  run_step memcheck problems "${memcheck[@]}" \
    "$test_bin" --require-gpu --quick "$kernels"
  run_step step-memcheck problems "${memcheck[@]}" \
    "$step_bin" --require-gpu --quick "$kernels"
  run_step conv-memcheck problems "${memcheck[@]}" \
    "$conv_bin" --require-gpu --quick "$kernels"
  run_step ssd-memcheck problems "${memcheck[@]}" \
    "$ssd_bin" --require-gpu --quick "$kernels"
  run_step norm-memcheck problems "${memcheck[@]}" \
    "$norm_bin" --require-gpu --quick "$kernels"
  run_step racecheck problems "${racecheck[@]}" \
    "$test_bin" --require-gpu --quick "$kernels"
  run_step step-racecheck problems "${racecheck[@]}" \
    "$step_bin" --require-gpu --quick "$kernels"
  run_step conv-racecheck problems "${racecheck[@]}" \
    "$conv_bin" --require-gpu --quick "$kernels"
  run_step ssd-racecheck problems "${racecheck[@]}" \
    "$ssd_bin" --require-gpu --quick "$kernels"
  run_step norm-racecheck problems "${racecheck[@]}" \
    "$norm_bin" --require-gpu --quick "$kernels"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
