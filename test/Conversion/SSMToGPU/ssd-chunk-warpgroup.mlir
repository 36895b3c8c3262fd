// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s
// The printed kernels parse again.
// RUN: ssm-opt %s -convert-ssm-to-gpu | ssm-opt | FileCheck %s

// The warpgroup tile (sm_90a): one warpgroup a block, chunks of 32 steps,
// three stages. x, B and C land in workgroup memory as 8x8 core matrices
// (the copies write 16 bytes at thread·16), C first so that G's 64-row
// reads stay in the allocation; then two buffers each of w∘x and G, and
// three of Acum and Δ (74496 bytes, asking for 76 KB: two blocks an SM, as
// every persistent scan does). The prologue stages chunks 0 and 1 and computes
// chunk 0's G (eight wgmma m64n32k16 over N, K-major, the first without
// accumulator input) and w∘x. Each chunk then copies chunk c + 2, updates
// the state in place (wgmma m64n128k16, both operands read transposed),
// computes Yᵀ = S·Cᵀ on mma.sync from the packed previous state (ldmatrix
// of C's cores), adds xᵀ·Gᵀ (wgmma, x transposed), computes the next
// chunk's G, and waits for the three groups in turn: the state, the
// outputs (a lane swap to pairs of columns), the next G. One barrier a
// chunk, after the copies two ahead land and a fence hands them, G and w∘x
// to the async proxy. The state stays the loop's 64 accumulator values a
// thread.

// CHECK-LABEL: func.func @wg(
// CHECK: gpu.launch_func @ssm_kernels::@wg_ssd_chunk_0 blocks
// CHECK-SAME: threads in (%c128
// CHECK-SAME: dynamic_shared_memory_size %c77824_i32
// CHECK-SAME: ssm.tile = #ssm.tile<threads = 128, items = 64, stages = 3, steps = 32, warpgroup = true>

// CHECK: gpu.func @wg_ssd_chunk_0(
// CHECK-SAME: nvvm.minctasm = 2 : i32
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: memref.view {{.*}}[%c0{{.*}}][] : {{.*}} to memref<12288xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}}[%c24576][] : {{.*}} to memref<12288xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}}[%c49152][] : {{.*}} to memref<6144xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}}[%c61440][] : {{.*}} to memref<4096xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}}[%c69632][] : {{.*}} to memref<2048xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}} to memref<192xf32, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy {{.*}} {bypassL1}
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.commit.group
// CHECK-NOT: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 32, k = 16>, D[<f32>, <zero>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK-COUNT-7: <m = 64, n = 32, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier

// CHECK: scf.for {{.*}} -> (f32,
// The stage rings' positions are remainders in 32 bits.
// CHECK: arith.remui %{{.*}}, %c3_i32{{.*}} : i32
// CHECK: arith.remui %{{.*}}, %c2_i32{{.*}} : i32
// CHECK: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 128, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <col>], B[<bf16>, <one>, <row>]
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 128, k = 16>
// CHECK-NEXT: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvvm.mma.sync {{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 32, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <col>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 32, k = 16>, D[<f32>, <zero>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 2
// CHECK: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: gpu.shuffle  xor
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NOT: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK: scf.yield

func.func @wg(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
              %A: tensor<8xf32>, %B: tensor<?x?x2x128xbf16>,
              %C: tensor<?x?x2x128xbf16>, %D: tensor<8xf32>,
              %z: tensor<?x?x8x64xbf16>)
    -> tensor<?x?x8x64xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C skip %D gate %z softplus
      chunk_size = 64 headdim = 64 ngroups = 2
      tile = <threads = 128, items = 64, stages = 3, steps = 32, warpgroup = true>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x2x128xbf16>, tensor<?x?x2x128xbf16>, tensor<8xf32>,
         tensor<?x?x8x64xbf16>)
      -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}
