#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks, then configures and builds
# ssmc (compiler, runtime and tests) into build/.
#   SSMC_BUILD_DIR  build directory (default: build)
#   CUDAToolkit_ROOT  CUDA toolkit (default: /usr/local/cuda)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SSMC_BUILD_DIR:-$root/build}"
cuda="${CUDAToolkit_ROOT:-/usr/local/cuda}"

packages=(libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22
          ninja-build cmake ccache libgtest-dev nlohmann-json3-dev python3)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -x "$cuda/bin/ptxas" || ! -f "$cuda/include/cuda.h" ]]; then
  echo "setup: error: no CUDA toolkit at '$cuda' (need bin/ptxas, bin/fatbinary," \
       "include/cuda.h, nvvm/libdevice); install it or set CUDAToolkit_ROOT" >&2
  exit 1
fi

cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DCUDAToolkit_ROOT="$cuda" >/dev/null
cmake --build "$build" -j "$(nproc)"
