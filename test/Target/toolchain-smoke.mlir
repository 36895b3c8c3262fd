// The toolchain works end to end: a hand-written kernel goes through the
// upstream NVVM lowering to PTX (toolchain-ptxas.mlir assembles it).
// RUN: ssm-opt %s -pass-pipeline="builtin.module(nvvm-attach-target{chip=sm_80 O=3},gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm,reconcile-unrealized-casts))" \
// RUN:   | ssm-opt -gpu-module-to-binary="format=isa toolkit=%cuda_root" \
// RUN:   | FileCheck %s

// CHECK: gpu.binary @kernels
// CHECK-SAME: .target sm_80
// CHECK-SAME: .entry axpy
// CHECK-SAME: ex2.approx

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @axpy(%a: f32, %x: memref<?xf32>, %y: memref<?xf32>) kernel {
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %bdim = gpu.block_dim x
      %base = arith.muli %bid, %bdim : index
      %i = arith.addi %base, %tid : index
      %c0 = arith.constant 0 : index
      %n = memref.dim %x, %c0 : memref<?xf32>
      %in = arith.cmpi slt, %i, %n : index
      scf.if %in {
        %xv = memref.load %x[%i] : memref<?xf32>
        %yv = memref.load %y[%i] : memref<?xf32>
        %e = math.exp2 %xv fastmath<afn> : f32
        %r = math.fma %a, %e, %yv : f32
        memref.store %r, %y[%i] : memref<?xf32>
      }
      gpu.return
    }
  }
}
