// RUN: ssm-opt %s -split-input-file -convert-ssm-to-gpu | FileCheck %s

// The layer function becomes a host function on memrefs with the output
// appended, launching kernels whose arguments are bare buffers (noalias,
// 16-byte aligned, readonly for inputs) and the dynamic sizes B and L: a
// tile without a chunk leaves the L segment length to the runtime
// (ssm.split_length, a multiple of the tile's steps, passed last), the
// carry kernel runs a block row per segment but the last and the scan one
// per segment.

// CHECK-LABEL: func.func @mamba1(
// CHECK-SAME: %[[U:.*]]: memref<?x512x?xbf16> {ssm.name = "u"}
// CHECK-SAME: %[[Y:.*]]: memref<?x512x?xbf16> {ssm.name = "y", ssm.output})
// CHECK-NOT: ssm.selective_scan
// CHECK-DAG: %[[B:.*]] = memref.dim %[[U]], %c0
// CHECK-DAG: %[[L:.*]] = memref.dim %[[U]], %c2
// CHECK-DAG: %[[GX:.*]] = arith.constant 8 : index
// CHECK: %[[SPLIT:.*]] = ssm.split_length %[[L]] quantum 8{{$}}
// CHECK: %[[SEGS:.*]] = arith.ceildivui %[[L]], %[[SPLIT]]
// CHECK: %[[CARRIED:.*]] = arith.subi %[[SEGS]], %c1
// CHECK: gpu.launch_func @ssm_kernels::@mamba1_selective_scan_0_carry blocks in (%[[GX]], %[[B]], %[[CARRIED]])
// CHECK-SAME: %[[B]] : index, %[[L]] : index, %[[SPLIT]] : index)
// CHECK: gpu.launch_func @ssm_kernels::@mamba1_selective_scan_0 blocks in (%[[GX]], %[[B]], %[[SEGS]]) threads in (%c64
// CHECK-SAME: %[[B]] : index, %[[L]] : index, %[[SPLIT]] : index)
// CHECK-SAME: ssm.op = "selective_scan", ssm.tile = #ssm.tile<threads = 64, items = 8>
// CHECK: return

// CHECK: gpu.module @ssm_kernels
// CHECK: llvm.module_flags [#llvm.mlir.module_flag<override, "nvvm-reflect-ftz", 1 : i32>]
// CHECK: gpu.func @mamba1_selective_scan_0(
// CHECK-SAME: memref<1xbf16> {llvm.align = 16 : i64, llvm.noalias, llvm.readonly}
// CHECK-SAME: %{{.*}}: memref<1xbf16> {llvm.align = 16 : i64, llvm.noalias}, %{{.*}}: memref<1xf32> {{.*}}, %{{.*}}: memref<1xf32> {{.*}}, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index)
// CHECK-SAME: workgroup(%[[SMEM:.*]] : memref<1280xf32, #gpu.address_space<workgroup>>) kernel
// CHECK-SAME: denormal_fp_math_f32 = "preserve-sign", known_block_size = array<i32: 64, 1, 1>, nvvm.minctasm = 6 : i32
// The aligned loop is software-pipelined: the prologue loads the first tile
// (128-bit loads) and stages its B/C (transposed to step-major) in workgroup
// memory; each iteration then waits at one barrier, issues the next tile's
// loads (carried as raw vectors), runs the recurrence with the 16 states in
// registers, stores y with one 128-bit store and stages the next B/C into
// the other buffer. bf16 values widen on the integer pipe: per 32-bit word,
// the low one shifted up 16 bits, the high one masked (no cvt.f32.bf16,
// which ptxas runs on the SFU).
// CHECK: scf.if %{{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: %[[VEC:.*]] = vector.load %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK-NOT: arith.extf
// CHECK: %[[WORDS:.*]] = vector.bitcast %[[VEC]] : vector<8xbf16> to vector<4xi32>
// CHECK: %[[WORD:.*]] = vector.extract %[[WORDS]][0] : i32 from vector<4xi32>
// CHECK: arith.shli %[[WORD]], %c16_i32
// CHECK: arith.andi %[[WORD]], %c-65536_i32
// CHECK: memref.store %{{.*}}, %[[SMEM]]
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> ({{.*}}, vector<8xbf16>, vector<8xbf16>, vector<8xbf16>)
// CHECK-NEXT: gpu.barrier
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: math.exp2 %{{.*}} fastmath<afn> : f32
// CHECK: math.fma
// CHECK: vector.store %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: memref.store %{{.*}}, %[[SMEM]]
// The silu gate of a bf16 output costs one SFU op: x/2 · (1 + tanh(x/2)),
// tanh.approx through llvm.intr.tanh with afn.
// CHECK: %[[TANH:.*]] = llvm.intr.tanh(%[[HALF:.*]]) {fastmathFlags = #llvm.fastmath<afn>} : (f32) -> f32
// CHECK-NEXT: math.fma %[[HALF]], %[[TANH]], %[[HALF]] : f32
func.func @mamba1(%u: tensor<?x512x?xbf16> {ssm.name = "u"},
                  %delta: tensor<?x512x?xbf16> {ssm.name = "delta"},
                  %A: tensor<512x16xf32> {ssm.name = "A"},
                  %B: tensor<?x1x16x?xbf16> {ssm.name = "B"},
                  %C: tensor<?x1x16x?xbf16> {ssm.name = "C"},
                  %D: tensor<512xf32> {ssm.name = "D"},
                  %z: tensor<?x512x?xbf16> {ssm.name = "z"},
                  %db: tensor<512xf32> {ssm.name = "delta_bias"})
    -> (tensor<?x512x?xbf16> {ssm.name = "y"}) {
  %y = ssm.selective_scan %u, %delta, %A, %B, %C skip %D gate %z bias %db
      softplus layout = channel_first tile = <threads = 64, items = 8>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>,
         tensor<?x1x16x?xbf16>, tensor<?x1x16x?xbf16>, tensor<512xf32>,
         tensor<?x512x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// -----

// Per-channel B/C need no workgroup memory; the last state is a second
// output and is stored after the scan.

// CHECK-LABEL: func.func @per_channel(
// CHECK-SAME: {ssm.name = "y", ssm.output}, %{{.*}}: memref<?x128x8xf32> {ssm.name = "h", ssm.output})
// CHECK: gpu.func @per_channel_selective_scan_0
// CHECK-SAME: index) kernel
// CHECK-NOT: gpu.barrier
// CHECK: memref.store
// CHECK: gpu.return
func.func @per_channel(%u: tensor<?x?x128xf32>, %delta: tensor<?x?x128xf32>,
                       %A: tensor<128x8xf32>, %B: tensor<128x8xf32>,
                       %C: tensor<128x8xf32>)
    -> (tensor<?x?x128xf32> {ssm.name = "y"}, tensor<?x128x8xf32> {ssm.name = "h"}) {
  %y, %h = ssm.selective_scan %u, %delta, %A, %B, %C reverse layout = channel_last
      tile = <threads = 128, items = 4>
      : (tensor<?x?x128xf32>, tensor<?x?x128xf32>, tensor<128x8xf32>,
         tensor<128x8xf32>, tensor<128x8xf32>)
      -> (tensor<?x?x128xf32>, tensor<?x128x8xf32>)
  return %y, %h : tensor<?x?x128xf32>, tensor<?x128x8xf32>
}

// -----

// fma_exps = 2: per step, the last two of the 4 state decays are a
// polynomial on the FMA pipe (clamp, round by 1.5·2^23, Horner, exponent
// shifted in), the first two ex2 on the SFU. The scalar per-step loop of the
// steps no tile covers comes first, then the unrolled tile.

// CHECK-LABEL: func.func @fma_exps(
// CHECK: gpu.func @fma_exps_selective_scan_0
// CHECK: scf.for
// CHECK-COUNT-2: math.exp2 %{{.*}} fastmath<afn> : f32
// CHECK-NOT: math.exp2
// CHECK: arith.maxnumf
// CHECK: arith.minnumf
// CHECK: %[[MAGIC:.*]] = arith.constant 0x4B400000 : f32
// CHECK: %[[T:.*]] = arith.addf %{{.*}}, %[[MAGIC]] : f32
// CHECK: arith.subf %[[T]], %[[MAGIC]] : f32
// CHECK-COUNT-5: math.fma
// CHECK: %[[TBITS:.*]] = arith.bitcast %[[T]] : f32 to i32
// CHECK: %[[SCALE:.*]] = arith.shli %[[TBITS]], %c23_i32{{.*}} : i32
// CHECK: %[[BITS:.*]] = arith.addi %{{.*}}, %[[SCALE]] : i32
// CHECK: arith.bitcast %[[BITS]] : i32 to f32
func.func @fma_exps(%u: tensor<?x?x128xf32>, %delta: tensor<?x?x128xf32>,
                    %A: tensor<128x4xf32>, %B: tensor<128x4xf32>,
                    %C: tensor<128x4xf32>) -> tensor<?x?x128xf32> {
  %y = ssm.selective_scan %u, %delta, %A, %B, %C layout = channel_last
      tile = <threads = 128, items = 4, fma_exps = 2>
      : (tensor<?x?x128xf32>, tensor<?x?x128xf32>, tensor<128x4xf32>,
         tensor<128x4xf32>, tensor<128x4xf32>) -> tensor<?x?x128xf32>
  return %y : tensor<?x?x128xf32>
}

// -----

// lanes = 2: two threads per channel, each with 8 of the 16 states, so a
// block of 64 threads owns 32 channels (grid x = 256 / 32), dealt out
// column-wise from a [4][8] grid so that a warp meets few row misalignments.
// In a tile the two partial sums of 8 steps are traded with whole-warp
// butterfly shuffles (4 per thread: each lane keeps and finishes 4 of the
// steps, stored as one 8-byte vector). The window the tiles leave runs as an
// edge tile: the same shuffles, a step outside [0, L) masked, and its
// outputs stored one by one where they are in range.

// CHECK-LABEL: func.func @lanes(
// CHECK: %[[GX:.*]] = arith.constant 8 : index
// CHECK: gpu.launch_func @ssm_kernels::@lanes_selective_scan_0 blocks in (%[[GX]],
// CHECK: gpu.func @lanes_selective_scan_0(
// CHECK: %[[SLOT:.*]] = arith.divui %thread_id_x, %c2
// CHECK: arith.remui %[[SLOT]], %c4
// CHECK: arith.divui %[[SLOT]], %c4
// CHECK: arith.remui %thread_id_x, %c2{{.*}} : index
// CHECK: arith.minui %{{.*}}, %arg9 : index
// CHECK: scf.for
// CHECK-COUNT-4: gpu.shuffle  xor %{{.*}}, %c1_i32{{.*}}, %c32_i32{{.*}} : f32
// CHECK-NOT: gpu.shuffle
// CHECK: vector.store %{{.*}} : memref<?xbf16>, vector<4xbf16>
// CHECK: scf.for
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: gpu.barrier
// CHECK: gpu.barrier
// CHECK: %[[VALID:.*]] = arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK: arith.select %[[VALID]]
// CHECK-COUNT-4: gpu.shuffle  xor %{{.*}}, %c1_i32{{.*}}, %c32_i32{{.*}} : f32
// CHECK: %[[IN:.*]] = arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK-NEXT: scf.if %[[IN]] {
// CHECK: memref.store %{{.*}} : memref<?xbf16>
func.func @lanes(%u: tensor<?x256x?xbf16>, %A: tensor<256x16xf32>,
                 %B: tensor<?x16x?xbf16>) -> tensor<?x256x?xbf16> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      tile = <threads = 64, items = 8, lanes = 2>
      : (tensor<?x256x?xbf16>, tensor<?x256x?xbf16>, tensor<256x16xf32>,
         tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x256x?xbf16>
  return %y : tensor<?x256x?xbf16>
}

// -----

// Functions without ssm ops are left alone.

// CHECK-LABEL: func.func @plain(%{{.*}}: tensor<4xf32>) -> tensor<4xf32>
func.func @plain(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// With L segments of the tile's chunk, a carry kernel records each
// segment's end state and Σ Δ in two workspaces; the scan kernel carries
// them in. The scan runs one block row per segment, ceil(L / chunk), the
// carry kernel and the workspaces one fewer: the segment scanned last
// carries nothing on.

// CHECK-LABEL: func.func @segments(
// CHECK: %[[L:.*]] = memref.dim %{{.*}}, %c2
// CHECK: %[[S:.*]] = arith.ceildivui %[[L]], %c1024
// CHECK: %[[CARRIED:.*]] = arith.subi %[[S]], %c1
// CHECK: %[[STATE:.*]] = memref.alloc(%{{.*}}, %[[CARRIED]]) {ssm.name = "carry_state"} : memref<?x?x2048x16xf32>
// CHECK: %[[SUM:.*]] = memref.alloc(%{{.*}}, %[[CARRIED]]) {ssm.name = "carry_delta"} : memref<?x?x2048xf32>
// CHECK: gpu.launch_func @ssm_kernels::@segments_selective_scan_0_carry blocks in (%{{.*}}, %{{.*}}, %[[CARRIED]])
// CHECK: gpu.launch_func @ssm_kernels::@segments_selective_scan_0 blocks in (%{{.*}}, %{{.*}}, %[[S]])
// CHECK: memref.dealloc %[[STATE]]
// CHECK: memref.dealloc %[[SUM]]
// The carry kernel reads no C and writes no output.
// CHECK: gpu.func @segments_selective_scan_0_carry(
// CHECK-SAME: memref<1xf32> {llvm.align = 16 : i64, llvm.noalias}, %{{.*}}: memref<1xf32> {llvm.align = 16 : i64, llvm.noalias}, %{{.*}}: index, %{{.*}}: index)
// CHECK: gpu.block_id z
// CHECK: gpu.func @segments_selective_scan_0(
// CHECK: gpu.block_id z
// The carry-in loop over the earlier segments.
// CHECK: scf.for
// CHECK: math.exp2
func.func @segments(%u: tensor<?x2048x?xbf16>, %delta: tensor<?x2048x?xbf16>,
                    %A: tensor<2048x16xf32>, %B: tensor<?x1x16x?xbf16>,
                    %C: tensor<?x1x16x?xbf16>)
    -> (tensor<?x2048x?xbf16>, tensor<?x2048x16xf32>) {
  %y, %h = ssm.selective_scan %u, %delta, %A, %B, %C layout = channel_first
      tile = <threads = 64, items = 8, chunk = 1024>
      : (tensor<?x2048x?xbf16>, tensor<?x2048x?xbf16>, tensor<2048x16xf32>,
         tensor<?x1x16x?xbf16>, tensor<?x1x16x?xbf16>)
      -> (tensor<?x2048x?xbf16>, tensor<?x2048x16xf32>)
  return %y, %h : tensor<?x2048x?xbf16>, tensor<?x2048x16xf32>
}

// -----

// An f32 output keeps the exact silu gate, x / (1 + 2^(-x·log2 e)): the
// tanh form's 2^-12 error would break its 1e-4 tolerance.

// CHECK-LABEL: func.func @gate_f32(
// CHECK: gpu.func @gate_f32_selective_scan_0
// CHECK-NOT: llvm.intr.tanh
// CHECK: math.exp2 %{{.*}} fastmath<afn> : f32
// CHECK: arith.divf %{{.*}} fastmath<fast> : f32
// CHECK-NOT: llvm.intr.tanh
// CHECK: gpu.return
func.func @gate_f32(%u: tensor<?x?x128xf32>, %delta: tensor<?x?x128xf32>,
                    %A: tensor<128x4xf32>, %B: tensor<128x4xf32>,
                    %C: tensor<128x4xf32>, %z: tensor<?x?x128xf32>)
    -> tensor<?x?x128xf32> {
  %y = ssm.selective_scan %u, %delta, %A, %B, %C gate %z layout = channel_last
      tile = <threads = 128, items = 4>
      : (tensor<?x?x128xf32>, tensor<?x?x128xf32>, tensor<128x4xf32>,
         tensor<128x4xf32>, tensor<128x4xf32>, tensor<?x?x128xf32>)
      -> tensor<?x?x128xf32>
  return %y : tensor<?x?x128xf32>
}
