#!/usr/bin/env bash
# Compiles ssm-tune's candidates of a selective-scan and an SSD GPU test spec
# (on the CPU machine), into the kernel directory of build_kernels.sh, so
# that run.sh checks every candidate tile against the reference and runs
# ssmc-tune-run over them:
#   build_tune_kernels.sh <bindir> <outdir>
# <bindir> holds ssm-tune and ssmc; the candidates specs go to
# <outdir>/tune-specs.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 <bindir> <outdir>" >&2
  exit 2
fi
bindir=$1
outdir=$2
specs=$(dirname "$0")/specs

mkdir -p "$outdir/tune-specs"
for name in gpu_bf16_cf_all ssd_bf16_all; do
  echo "ssm-tune $specs/$name.json"
  "$bindir/ssm-tune" "$specs/$name.json" \
    -o "$outdir/tune-specs/${name}_tune.json"
done
"$(dirname "$0")/build_kernels.sh" "$bindir/ssmc" "$outdir" \
  "$outdir/tune-specs"
