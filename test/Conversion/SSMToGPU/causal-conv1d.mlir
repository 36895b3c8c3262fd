// RUN: ssm-opt %s -split-input-file -convert-ssm-to-gpu | FileCheck %s

// Channel-first: flat 16-byte vectors of B·C·L, 4 per thread (32 vectors
// apart, loaded first), 4096 elements per block (grid ceil(L / 64) x
// 64·64 / 4096 x B); one division by L per thread; the K-1 inputs before a
// vector come from lane l - 1 (shuffle idx), lane 31 loading those before
// the warp's first; warps wholly past B·C·L leave at once. L < 8 takes the
// general walk, and longer rows a warp vote that picks the select path for
// warps whose vectors cross a row, or the one-channel path. The body comes
// twice: with i32 offsets where the grid spans (and the initial state holds)
// at most 2^31 - 2^16 elements, else with index ones; 64 registers (8
// blocks an SM). The final state is written by a second kernel for the same
// L, a thread a row (grid ceil(64 / 128) x B), from x or, before step 0, the
// initial state.
// With a conv state, L = 1 (a decode step) launches a kernel of its own
// instead, under scf.if on L: a thread takes 4 channels of one batch entry
// (grid ceil(64 / 512) x B), loading x, the 4x4 weights, the biases and the
// 12-value state as vectors, and stores the final state as 3 vectors of 4.

// CHECK-LABEL: func.func @conv_cf(
// CHECK-SAME: {ssm.name = "y", ssm.output}, %{{.*}}: memref<?x64x3xf32> {ssm.name = "final_state", ssm.output})
// CHECK: %[[B:.*]] = memref.dim %{{.*}}, %c0
// CHECK: %[[L:.*]] = memref.dim %{{.*}}, %c2
// CHECK: %[[GX:.*]] = arith.ceildivui %[[L]], %c64
// CHECK: %[[LONG:.*]] = arith.cmpi ugt, %[[L]], %[[ONE:.*]] : index
// CHECK: %[[STEP:.*]] = arith.cmpi ule, %[[L]], %[[ONE]] : index
// CHECK: scf.if %[[LONG]] {
// CHECK: gpu.launch_func @ssm_kernels::@conv_cf_causal_conv1d_0 blocks in (%[[GX]], %c1, %[[B]]) threads in (%c128
// CHECK-SAME: ssm.op = "causal_conv1d"
// CHECK: scf.if %[[LONG]] {
// CHECK: gpu.launch_func @ssm_kernels::@conv_cf_causal_conv1d_0_final blocks in (%c1{{.*}}, %[[B]], %c1{{.*}}) threads in (%c128
// CHECK: scf.if %[[STEP]] {
// CHECK: gpu.launch_func @ssm_kernels::@conv_cf_causal_conv1d_0_step blocks in (%c1{{.*}}, %[[B]], %[[ONE]]) threads in (%c128
// CHECK-SAME: ssm.op = "causal_conv1d"
// CHECK: gpu.func @conv_cf_causal_conv1d_0(
// CHECK-SAME: nvvm.minctasm = 8
// CHECK: %[[SSIZE:.*]] = arith.muli %arg6, %c192 : index
// CHECK: %[[BLOCKS:.*]] = arith.muli %{{.*}}, %grid_dim_z : index
// CHECK: %[[SPAN:.*]] = arith.muli %[[BLOCKS]], %c4096 : index
// CHECK: %[[LIMIT:.*]] = arith.constant 2147418112 : index
// CHECK: %[[XFITS:.*]] = arith.cmpi ule, %[[SPAN]], %[[LIMIT]]
// CHECK: %[[SFITS:.*]] = arith.cmpi ule, %[[SSIZE]], %[[LIMIT]]
// CHECK: %[[FITS:.*]] = arith.andi %[[XFITS]], %[[SFITS]]
// CHECK: scf.if %[[FITS]] {
// CHECK: %[[L32:.*]] = arith.index_castui %arg7 : index to i32
// CHECK: %[[TOTAL:.*]] = arith.muli %{{.*}}, %[[L32]] : i32
// CHECK: arith.index_castui %thread_id_x : index to i32
// CHECK: %[[WARP0:.*]] = arith.muli %{{.*}}, %c32_i32{{.*}} : i32
// CHECK: %[[ACTIVE:.*]] = arith.cmpi slt, %[[WARP0]], %[[TOTAL]] : i32
// CHECK: scf.if %[[ACTIVE]] {
// CHECK-COUNT-4: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: arith.divui %{{.*}}, %[[L32]] : i32
// CHECK-COUNT-3: gpu.shuffle idx
// CHECK-NOT: vector<12xf32>
// CHECK: scf.if %{{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: } else {
// CHECK: nvvm.vote.sync any
// CHECK: } else {
// CHECK-COUNT-4: math.fma
// CHECK: math.exp2
// CHECK-NOT: memref<?xf32>
// CHECK: vector.store %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK-COUNT-3: vector.store %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: } else {
// CHECK-COUNT-5: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: arith.divui %{{.*}}, %arg7 : index
// CHECK-COUNT-4: vector.store %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK-NOT: vector.store
// CHECK: gpu.return
// CHECK: gpu.func @conv_cf_causal_conv1d_0_final(
// CHECK-NOT: nvvm.minctasm
// CHECK: %[[ROW:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: memref.load %{{.*}} : memref<?xbf16>
// CHECK: memref.load %{{.*}} : memref<?xf32>
// CHECK: memref.store %{{.*}} : memref<?xf32>
// CHECK-COUNT-2: memref.store %{{.*}} : memref<?xf32>
// CHECK: gpu.return
// CHECK: gpu.func @conv_cf_causal_conv1d_0_step
// CHECK-NOT: nvvm.minctasm
// CHECK: %[[C:.*]] = arith.muli %{{.*}}, %c4 : index
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[C]], %c64
// CHECK: scf.if %[[IN]] {
// CHECK: vector.load %{{.*}} {alignment = 8 : i64} : memref<?xbf16>, vector<4xbf16>
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<16xf32>
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<12xf32>
// CHECK-NOT: scf.if
// CHECK-COUNT-3: vector.store %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK: vector.store %{{.*}} {alignment = 8 : i64} : memref<?xbf16>, vector<4xbf16>
// CHECK: gpu.return
func.func @conv_cf(%x: tensor<?x64x?xbf16>, %w: tensor<64x4xf32>,
                   %b: tensor<64xf32>, %s: tensor<?x64x3xf32>)
    -> (tensor<?x64x?xbf16> {ssm.name = "y"},
        tensor<?x64x3xf32> {ssm.name = "final_state"}) {
  %y, %f = ssm.causal_conv1d %x weight %w bias %b init %s activation = silu
      layout = channel_first
      : (tensor<?x64x?xbf16>, tensor<64x4xf32>, tensor<64xf32>,
         tensor<?x64x3xf32>) -> (tensor<?x64x?xbf16>, tensor<?x64x3xf32>)
  return %y, %f : tensor<?x64x?xbf16>, tensor<?x64x3xf32>
}

// -----

// Channel-last: a thread owns 4 f32 channels (one 128-bit vector per step)
// and walks 32 steps with its K-1 previous inputs in registers; a batch
// entry's ceil(L / 32) x 96 threads are consecutive on channel groups, in
// blocks ceil(L / 128) x 3 (x B).

// CHECK-LABEL: func.func @conv_cl(
// CHECK: %[[B:.*]] = memref.dim %{{.*}}, %c0
// CHECK: %[[L:.*]] = memref.dim %{{.*}}, %c1
// CHECK: %[[GX:.*]] = arith.ceildivui %[[L]], %c128
// CHECK: gpu.launch_func @ssm_kernels::@conv_cl_causal_conv1d_0 blocks in (%[[GX]], %c3, %[[B]])
// CHECK: gpu.func @conv_cl_causal_conv1d_0
// CHECK-COUNT-32: vector.store %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK-NOT: vector.store
// CHECK: gpu.return
func.func @conv_cl(%x: tensor<?x?x384xf32>, %w: tensor<384x2xf32>)
    -> tensor<?x?x384xf32> {
  %y = ssm.causal_conv1d %x weight %w activation = none layout = channel_last
      : (tensor<?x?x384xf32>, tensor<384x2xf32>) -> tensor<?x?x384xf32>
  return %y : tensor<?x?x384xf32>
}

// -----

// Channel-last with C = 6 bf16: groups of 2 channels (4 do not divide C).

// CHECK-LABEL: func.func @conv_cl_narrow(
// CHECK: gpu.func @conv_cl_narrow_causal_conv1d_0
// CHECK: vector.load %{{.*}} : memref<?xbf16>, vector<2xbf16>
// CHECK: vector.store %{{.*}} : memref<?xbf16>, vector<2xbf16>
func.func @conv_cl_narrow(%x: tensor<?x?x6xbf16>, %w: tensor<6x3xf32>)
    -> tensor<?x?x6xbf16> {
  %y = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<?x?x6xbf16>, tensor<6x3xf32>) -> tensor<?x?x6xbf16>
  return %y : tensor<?x?x6xbf16>
}

// -----

// A final state tied to the initial state (`ssm.tied`, a decode step's conv
// state updated in place): one in-out buffer, passed once and not read-only;
// the first run reads it (as whole vectors) and writes it back, as does the
// decode-step kernel. A channel-last kernel with a conv state is held to 3
// blocks an SM (168 registers).

// CHECK-LABEL: func.func @conv_in_place(
// CHECK-SAME: %{{.*}}: memref<?x256x3xf32> {ssm.inout}, %{{.*}}: memref<?x?x256xbf16> {ssm.output})
// CHECK: gpu.launch_func @ssm_kernels::@conv_in_place_causal_conv1d_0
// CHECK-SAME: args(%{{.*}} : memref<1xbf16>, %{{.*}} : memref<1xf32>, %{{.*}} : memref<1xf32>, %{{.*}} : memref<1xbf16>, %{{.*}} : index, %{{.*}} : index)
// CHECK: gpu.func @conv_in_place_causal_conv1d_0(%{{.*}}: memref<1xbf16> {{{.*}}llvm.readonly}, %{{.*}}: memref<1xf32> {{{.*}}llvm.readonly}, %[[STATE:.*]]: memref<1xf32> {llvm.align = 16 : i64, llvm.noalias}, %{{.*}}: memref<1xbf16> {llvm.align = 16 : i64, llvm.noalias}, %{{.*}}: index, %{{.*}}: index)
// CHECK-SAME: nvvm.minctasm = 3
// CHECK: %[[INIT:.*]] = memref.reinterpret_cast %[[STATE]]
// CHECK: %[[FINAL:.*]] = memref.reinterpret_cast %[[STATE]]
// CHECK: %[[FIRST:.*]] = arith.cmpi slt, %{{.*}}, %c3
// CHECK: scf.if %[[FIRST]] -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: vector.load %[[INIT]][%{{.*}}] {alignment = 16 : i64} : memref<?xf32>, vector<12xf32>
// CHECK: scf.if %[[FIRST]] {
// CHECK-COUNT-3: vector.store %{{.*}}, %[[FINAL]][%{{.*}}] {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK: gpu.return
// CHECK: gpu.func @conv_in_place_causal_conv1d_0_step(%{{.*}}: memref<1xbf16> {{{.*}}llvm.readonly}, %{{.*}}: memref<1xf32> {{{.*}}llvm.readonly}, %[[STATE:.*]]: memref<1xf32> {llvm.align = 16 : i64, llvm.noalias}, %{{.*}}: memref<1xbf16> {llvm.align = 16 : i64, llvm.noalias}, %{{.*}}: index, %{{.*}}: index)
// CHECK: %[[INIT:.*]] = memref.reinterpret_cast %[[STATE]]
// CHECK: %[[FINAL:.*]] = memref.reinterpret_cast %[[STATE]]
// CHECK: vector.load %[[INIT]][%{{.*}}] {alignment = 16 : i64} : memref<?xf32>, vector<12xf32>
// CHECK-COUNT-3: vector.store %{{.*}}, %[[FINAL]][%{{.*}}] {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK: gpu.return
func.func @conv_in_place(%x: tensor<?x?x256xbf16>, %w: tensor<256x4xf32>,
                         %s: tensor<?x256x3xf32>)
    -> (tensor<?x?x256xbf16>, tensor<?x256x3xf32> {ssm.tied = 2 : i64}) {
  %y, %f = ssm.causal_conv1d %x weight %w init %s activation = silu
      layout = channel_last
      : (tensor<?x?x256xbf16>, tensor<256x4xf32>, tensor<?x256x3xf32>)
      -> (tensor<?x?x256xbf16>, tensor<?x256x3xf32>)
  return %y, %f : tensor<?x?x256xbf16>, tensor<?x256x3xf32>
}
