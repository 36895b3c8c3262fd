// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s
// The printed kernels parse again.
// RUN: ssm-opt %s -convert-ssm-to-gpu | ssm-opt | FileCheck %s
// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s --check-prefix=COPY
// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s --check-prefix=DECAY

// The carry kernel walks chunks of its own. Where the L segments are whole
// 64-step chunks it takes those, three stages deep: x and B in three
// buffers of 64 rows, 64 · 3 · (72 + 136) · 2 + Acum and Δ (3 · 2 · 64 · 4)
// + their run totals (3 · 4 · 4, below) = 81456 bytes, which an SM holds
// twice, so ptxas is held to two blocks' registers. Other segment lengths
// (here 1056 steps, a tile of 32 head-dim columns: two warps) keep the
// scan's 32-step chunks, two stages deep in three buffers (32 · 3 · (40 +
// 136) · 2 + 2 · 2 · 32 · 4 + 2 · 2 · 4 = 34320 bytes), and three blocks an
// SM.
//
// The warps of a pair split the states N: each holds two column blocks'
// 64 states (64 f32 a lane, as a warp of one block and 128 states would),
// so per 16 steps it loads x of both blocks, then each of its four B
// fragments (16 steps x 16 states) feeds four mma.sync, two a block.

// The carry's chunks lie whole inside L (its segments are whole chunks and
// precede the last one), so its copies take every row as it is: no clamp
// and no zero fill (the copies' source-size operand). The scan's last chunk
// may run past L, so its copies keep both.

// COPY-LABEL: gpu.func @whole_ssd_chunk_0_carry(
// COPY-NOT: ], 8, %
// COPY: nvgpu.device_async_copy {{.*}}], 8 {bypassL1} : memref<?xbf16> to memref<192x72xbf16
// COPY-NOT: ], 8, %
// COPY: nvgpu.device_async_copy {{.*}}], 8 : memref<?xbf16> to memref<192x136xbf16
// COPY-NOT: ], 8, %
// COPY-LABEL: gpu.func @whole_ssd_chunk_0(
// COPY: nvgpu.device_async_copy {{.*}}], 8, %{{.*}} {bypassL1}
// COPY-LABEL: gpu.func @odd_ssd_chunk_0_carry(
// COPY-NOT: ], 8, %
// COPY: nvgpu.device_async_copy {{.*}}], 8 {bypassL1} : memref<?xbf16> to memref<96x40xbf16
// COPY-NOT: ], 8, %
// COPY-LABEL: gpu.func @odd_ssd_chunk_0(
// COPY: nvgpu.device_async_copy {{.*}}], 8, %{{.*}} {bypassL1}

// The carry's warps have no G tiles to even out the decay warp's work, so
// every warp stages Δ and Acum of its own run of the chunk (16 steps, one a
// lane: a 16-lane scan, shuffles 1..8), Acum summed from the run's start
// and its total beside (memref<12xf32>: three buffers of four runs). The
// state update reads the four totals: the chunk's decay, and the end each
// run's Acum sees. The copies of the chunk two ahead follow, just before
// the state update. The scan keeps one decay warp: 32 lanes, shuffles 1..16.

// DECAY-LABEL: gpu.func @whole_ssd_chunk_0_carry(
// DECAY: memref.view {{.*}} to memref<12xf32
// DECAY: scf.for
// DECAY: gpu.barrier
// DECAY: vector.load {{.*}} : memref<12xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// DECAY: gpu.shuffle  up %{{.*}}, %c1_i32
// DECAY: gpu.shuffle  up %{{.*}}, %c2_i32
// DECAY: gpu.shuffle  up %{{.*}}, %c4_i32
// DECAY: gpu.shuffle  up %{{.*}}, %c8_i32
// DECAY-NOT: gpu.shuffle
// DECAY: memref.store {{.*}} : memref<12xf32, #gpu.address_space<workgroup>>
// DECAY-NOT: nvgpu.ldmatrix
// DECAY: nvgpu.device_async_copy
// DECAY: nvvm.cp.async.commit.group
// DECAY: nvgpu.ldmatrix
// DECAY: scf.yield
// DECAY-LABEL: gpu.func @whole_ssd_chunk_0(
// DECAY: gpu.shuffle  up %{{.*}}, %c16_i32

// CHECK-LABEL: func.func @whole(
// CHECK: gpu.launch_func @ssm_kernels::@whole_ssd_chunk_0_carry
// CHECK-SAME: dynamic_shared_memory_size %c81456_i32
// CHECK-LABEL: func.func @odd(
// CHECK: gpu.launch_func @ssm_kernels::@odd_ssd_chunk_0_carry
// CHECK-SAME: dynamic_shared_memory_size %c34320_i32

// CHECK-LABEL: gpu.func @whole_ssd_chunk_0_carry(
// CHECK-SAME: nvvm.minctasm = 2 : i32
// CHECK: memref.view {{.*}} to memref<192x72xbf16
// CHECK: memref.view {{.*}} to memref<192x136xbf16
// CHECK: scf.for {{.*}} -> (f32, f32
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-COUNT-2: nvgpu.ldmatrix {{.*}} : memref<192x72xbf16
// CHECK-NOT: nvvm.mma.sync
// CHECK: nvgpu.ldmatrix {{.*}} : memref<192x136xbf16
// CHECK-NOT: nvgpu.ldmatrix
// CHECK-COUNT-4: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: nvgpu.ldmatrix {{.*}} : memref<192x136xbf16
// CHECK-NOT: nvgpu.ldmatrix
// CHECK-COUNT-4: nvvm.mma.sync
// CHECK: scf.yield {{.*}} : f32, f32
// CHECK-LABEL: gpu.func @odd_ssd_chunk_0_carry(
// CHECK-SAME: nvvm.minctasm = 3 : i32
// CHECK: memref.view {{.*}} to memref<96x40xbf16
// CHECK: memref.view {{.*}} to memref<96x136xbf16
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 1

func.func @whole(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                 %A: tensor<8xf32>, %B: tensor<?x?x1x128xbf16>,
                 %C: tensor<?x?x1x128xbf16>) -> tensor<?x?x8x64xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C softplus
      chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 64, chunk = 1024>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>)
      -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

func.func @odd(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
               %A: tensor<8xf32>, %B: tensor<?x?x1x128xbf16>,
               %C: tensor<?x?x1x128xbf16>) -> tensor<?x?x8x64xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C softplus
      chunk_size = 32 headdim = 64 ngroups = 1
      tile = <threads = 64, items = 32, chunk = 1056>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>)
      -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}
