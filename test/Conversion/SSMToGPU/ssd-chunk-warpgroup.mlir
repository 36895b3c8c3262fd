// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s

// The warpgroup tile (sm_90a): one warpgroup a block, chunks of 32 steps.
// x, B and C land in workgroup memory as 8x8 core matrices (the copies
// write 16 bytes at thread·16), C first so that G's 64-row reads stay in
// the allocation (they run into the 16-bit state S that follows). Per
// chunk: wait for the copies, fence them and S to the async proxy and pass
// a barrier; copy the next chunk; G = C·Bᵀ and Yᵀ = S·Cᵀ as two groups of
// eight wgmma m64n32k16 (K-major operands, the first of each without
// accumulator input); then w∘x and the masked G, fenced, a barrier, and
// Yᵀ += xᵀ·Gᵀ (x read transposed) and S += (w∘x)ᵀ·B (both transposed,
// m64n128). The state stays the loop's 64 accumulator values a thread.

// CHECK-LABEL: func.func @wg(
// CHECK: gpu.launch_func @ssm_kernels::@wg_ssd_chunk_0
// CHECK-SAME: threads in (%c128
// CHECK-SAME: dynamic_shared_memory_size %c68608_i32
// CHECK-SAME: ssm.tile = #ssm.tile<threads = 128, items = 64, stages = 2, steps = 32, warpgroup = true>

// CHECK: gpu.func @wg_ssd_chunk_0(
// CHECK-SAME: nvvm.minctasm = 3 : i32
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: memref.view {{.*}}[%c0{{.*}}][] : {{.*}} to memref<8192xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}}[%c16384][] : {{.*}} to memref<8192xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy
// CHECK: scf.for {{.*}} -> (f32,
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: nvgpu.device_async_copy
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 32, k = 16>, D[<f32>, <zero>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK-COUNT-7: <m = 64, n = 32, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 32, k = 16>, D[<f32>, <zero>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 32, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <col>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 128, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <col>], B[<bf16>, <one>, <row>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: nvvm.bar.warp.sync
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: scf.yield

func.func @wg(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
              %A: tensor<8xf32>, %B: tensor<?x?x2x128xbf16>,
              %C: tensor<?x?x2x128xbf16>, %D: tensor<8xf32>,
              %z: tensor<?x?x8x64xbf16>)
    -> tensor<?x?x8x64xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C skip %D gate %z softplus
      chunk_size = 64 headdim = 64 ngroups = 2
      tile = <threads = 128, items = 64, stages = 2, steps = 32, warpgroup = true>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x2x128xbf16>, tensor<?x?x2x128xbf16>, tensor<8xf32>,
         tensor<?x?x8x64xbf16>)
      -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}
