// RUN: ssm-opt %s -ssm-tile -convert-ssm-to-gpu | FileCheck %s

// chunk_size = 256 (Mamba-2's default): the output does not depend on the
// chunk length beyond rounding, so ssm-tile has the kernel work in chunks
// of 32 steps (tile steps), two of them staged, which fit a block's
// workgroup memory where 256 would not. With N = 256 and 64 columns that is
// 32 · (2 · (72 + 2 · 264) + 40) · 2 + 2 · 2 · 32 · 4 = 79872 bytes (x, B
// and C staged twice, G once, Acum and Δ twice), where Q = 256 would need
// 753664.

// CHECK-LABEL: func.func @q256(
// CHECK: gpu.launch_func @ssm_kernels::@q256_ssd_chunk_0 blocks
// CHECK-SAME: dynamic_shared_memory_size %c79872_i32
// CHECK-SAME: ssm.tile = #ssm.tile<threads = 128, items = 64, steps = 32>
func.func @q256(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                %A: tensor<8xf32>, %B: tensor<?x?x1x256xbf16>)
    -> tensor<?x?x8x64xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x256xbf16>, tensor<?x?x1x256xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}
