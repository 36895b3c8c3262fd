// ptxas assembles the PTX of the toolchain smoke kernel for sm_80 and sm_90;
// UNSUPPORTED where the CUDA toolkit's ptxas is absent.
// REQUIRES: ptxas
// RUN: ssm-opt %S/toolchain-smoke.mlir -pass-pipeline="builtin.module(nvvm-attach-target{chip=sm_80 O=3},gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm,reconcile-unrealized-casts))" \
// RUN:   | ssm-opt -gpu-module-to-binary="format=isa toolkit=%cuda_root" \
// RUN:   | %python %S/../extract-ptx.py > %t.ptx
// RUN: %ptxas -arch=sm_80 %t.ptx -o %t.sm80.cubin
// RUN: %ptxas -arch=sm_90 %t.ptx -o %t.sm90.cubin
