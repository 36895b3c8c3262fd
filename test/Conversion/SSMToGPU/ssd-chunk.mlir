// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s
// The printed kernels parse again.
// RUN: ssm-opt %s -convert-ssm-to-gpu | ssm-opt | FileCheck %s

// An SSD layer without an L segment length leaves it to the runtime: an
// ssm.split_length of L, a multiple of the kernel's chunk, into the fewest
// segments whose units fill the persistent scan's two blocks an SM, which
// the kernels take as their last parameter. The carry
// kernel runs a block row per segment but the last (none for a single
// segment). The scan is persistent: ssm.worker_count blocks (two an SM, at
// most one per unit of head-dim tile and head, segment and batch entry),
// which hand their states on through two workspaces, the flags zeroed. Its
// workgroup memory is dynamic (x, B, C staged twice, G, and Acum and Δ
// twice); the chunk loop copies the next
// chunk with cp.async while this one runs on tensor cores: ldmatrix
// fragments into mma.sync m16n8k16 with bf16 operands and f32 accumulators.
// The state is the loop's carried accumulators (N/8 tiles of 4 f32 per lane
// for 16 head-dim columns, 64 values at N = 128), plus the decay sum and the
// raw dt of the chunk after next (Q/32 = 2 per lane, still bf16). A tile
// without steps runs chunks of chunk_size. Chunks of up to 64 steps hold
// ptxas to the registers of three resident carry blocks an SM and two scan
// blocks (nvvm.minctasm).

// CHECK-LABEL: func.func @mamba2(
// CHECK-SAME: %[[X:[^:]*]]: memref<?x?x8x64xbf16>
// CHECK: %[[B:.*]] = memref.dim %[[X]], %c0
// CHECK: %[[L:.*]] = memref.dim %[[X]], %c1
// CHECK: %[[SPLIT:.*]] = ssm.split_length %[[L]] quantum 64 min 1024 fill 2
// CHECK: %[[SEGS:.*]] = arith.ceildivui %[[L]], %[[SPLIT]]
// CHECK: %[[CARRIED:.*]] = arith.subi %[[SEGS]], %c1
// CHECK: memref.alloc(%[[B]], %[[CARRIED]]) {ssm.name = "carry_state"} : memref<?x?x8x64x128xf32>
// CHECK: %[[W:.*]] = ssm.worker_count(%c8, %[[SEGS]], %[[B]]) per_sm 2
// CHECK: memref.alloc(%[[W]]) {ssm.name = "handoff_state"} : memref<?x64x128xf32>
// CHECK: memref.alloc(%[[W]]) {ssm.name = "handoff_ready", ssm.zeroed} : memref<?xf32>
// CHECK: gpu.launch_func @ssm_kernels::@mamba2_ssd_chunk_0_carry blocks in (%c8, %[[CARRIED]], %[[B]])
// CHECK-SAME: %[[B]] : index, %[[L]] : index, %[[SPLIT]] : index)
// CHECK: gpu.launch_func @ssm_kernels::@mamba2_ssd_chunk_0
// CHECK-SAME: blocks in (%[[W]], %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c128
// CHECK-SAME: dynamic_shared_memory_size %c98304_i32
// CHECK-SAME: %[[B]] : index, %[[L]] : index, %[[SPLIT]] : index)
// CHECK-SAME: {ssm.op = "ssd_chunk", ssm.tile = #ssm.tile<threads = 128, items = 64>}

// Its carry kernel walks chunks of its own, 64 steps three stages deep:
// 64 · 3 · (72 + 136) · 2 + Acum and Δ (3 · 2 · 64 · 4) + the totals of
// each warp's run of Acum (3 · 4 · 4) = 81456 bytes. The
// scan needs 71936 bytes, and asks for 76 KB, which holds an sm_90 SM's
// 228 KB to two of its blocks.
// CHECK-LABEL: func.func @three_stages(
// CHECK: gpu.launch_func @ssm_kernels::@three_stages_ssd_chunk_0_carry blocks
// CHECK-SAME: dynamic_shared_memory_size %c81456_i32
// CHECK: gpu.launch_func @ssm_kernels::@three_stages_ssd_chunk_0 blocks
// CHECK-SAME: dynamic_shared_memory_size %c77824_i32
// CHECK-SAME: ssm.tile = #ssm.tile<threads = 128, items = 64, stages = 3, steps = 32>

// Two stages (the default): where three buffers of x, B and C fit in the
// 76 KB a scan block takes anyway (32 · 3 · (72 + 2 · 136) · 2 + G + Acum
// and Δ = 69120 bytes), the kernels have three, and the next chunk's copies
// never land on a stage a warp may still read: the chunk loop has no
// barrier at its end, only the one at its top and, in the scan, the one
// that publishes G.
// CHECK-LABEL: func.func @two_stages(
// CHECK: gpu.launch_func @ssm_kernels::@two_stages_ssd_chunk_0_carry blocks
// CHECK-SAME: dynamic_shared_memory_size %c81456_i32
// CHECK: gpu.launch_func @ssm_kernels::@two_stages_ssd_chunk_0 blocks
// CHECK-SAME: dynamic_shared_memory_size %c77824_i32

// The scan block's share: block k of W takes chunks [k·T/W, (k+1)·T/W) of
// the T of all units. A loop walks the units it touches, last first; each
// starts after the previous one's copies have landed. It then issues its
// first copies (and dt loads), and while they are in flight takes the state
// it starts from: the unit's initial state (with the earlier segments
// carried in) or, in the middle of a unit, the state the previous block
// hands on: thread 0 spins on its flag with atomic reads, clears it and
// fences before a barrier.
// CHECK: gpu.func @mamba2_ssd_chunk_0(
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>, nvvm.minctasm = 2 : i32
// CHECK: gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}} to memref<128x72xbf16, #gpu.address_space<workgroup>>
// CHECK: gpu.block_id x
// CHECK: gpu.grid_dim x
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %{{.*}} step %c1{{.*}} {
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// x bypasses L1; B and C, which the group's heads share, do not.
// CHECK: nvgpu.device_async_copy {{.*}}, 8, %{{.*}} {bypassL1}
// CHECK: nvgpu.device_async_copy {{.*}}, 8, %{{[0-9]+}} : memref<?xbf16> to memref<128x136xbf16
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.if {{.*}} -> (f32, f32, f32, f32,
// CHECK: scf.for {{.*}} -> (f32, f32, f32, f32,
// CHECK: } else {
// CHECK: memref.atomic_rmw addf {{.*}} : (f32, memref<?xf32>) -> f32
// CHECK: scf.condition
// CHECK: memref.atomic_rmw assign {{.*}} : (f32, memref<?xf32>) -> f32
// CHECK: nvvm.memory.barrier <gpu>
// CHECK: gpu.barrier

// Per chunk: wait for the copies, a barrier, G on the warps (index_switch)
// and the state term C·Sᵀ from the carried accumulators, a barrier that
// publishes G, then the causal term G·x (x transposed) and the state update;
// with two stages a last barrier before the next chunk's copies.
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32,
// CHECK: nvvm.cp.async.wait.group 1
// CHECK: gpu.barrier
// CHECK: scf.index_switch %{{[^ ]*}} {{$}}
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// G's mask reads Acum and Δ of two columns in one 16-byte load (the two
// buffers hold them side by side), and the diagonal tiles add D where
// column = row: G·x then carries the skip term D·x.
// CHECK: vector.load {{.*}} {alignment = 16 : i64} : memref<256xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK: math.exp2
// CHECK: arith.cmpi eq
// CHECK: %[[DIAG:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: arith.addf %{{.*}}, %[[DIAG]] : f32
// CHECK-NEXT: arith.cmpi ule
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvvm.mma.sync
// CHECK: gpu.barrier
// The z gate loads the four columns a lane stores, 8 bytes at a time; with
// a gate, lanes 2k and 2k + 1 swap f32 pairs of outputs before it.
// CHECK: vector.load {{.*}} {alignment = 8 : i64} : memref<?xbf16>, vector<4xbf16>
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvvm.mma.sync
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32{{.*}}, %c32_i32{{.*}} : f32
// CHECK: vector.store {{.*}} {alignment = 8 : i64} : memref<?xbf16>, vector<4xbf16>
// CHECK: gpu.barrier
// CHECK: scf.yield {{.*}} : f32, f32, f32, f32, f32, f32, {{.*}}f32, bf16, bf16

// Where the share ends inside a unit, the state goes to the next block: the
// stores, a barrier, then thread 0 fences (for the whole block) and sets the
// flag.
// CHECK: vector.store {{.*}} : memref<?xf32>, vector<2xf32>
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK-NEXT: nvvm.memory.barrier <gpu>
// CHECK: memref.atomic_rmw assign {{.*}} : (f32, memref<?xf32>) -> f32

// Three stages run two chunks ahead: three x, B, C stages, two G buffers
// and three of Acum and Δ (side by side, 2·32 f32 each). The prologue stages two chunks and computes the
// first G; each chunk then waits for the next one's copies, passes the only
// barrier of the loop, starts the copies two chunks ahead and computes the
// next chunk's G while it finishes its own.
// Chunks of 32 steps interleave further: each warp's case of the switch
// computes the state term first (its f32 outputs are the switch's results),
// then (without a z gate) starts the copies two chunks ahead and computes
// its G tiles, and the state update comes between the outputs and their
// stores, which a chunk inside L makes without per-row guards.
// CHECK: gpu.func @three_stages_ssd_chunk_0(
// CHECK: memref.view {{.*}} to memref<96x72xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}} to memref<64x40xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}} to memref<192xf32, #gpu.address_space<workgroup>>
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: scf.index_switch
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: gpu.barrier
// The stage rings' positions are remainders in 32 bits.
// CHECK: arith.remui %{{.*}}, %c3_i32{{.*}} : i32
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: scf.index_switch %{{[^ ]*}} -> f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32
// CHECK-NEXT: case 0 {
// CHECK-NOT: nvgpu.ldmatrix
// CHECK: vector.from_elements %arg{{[0-9]+}}, %arg{{[0-9]+}} : vector<2xf32>
// CHECK: nvvm.mma.sync
// CHECK-NOT: scf.yield
// CHECK: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK-NOT: scf.yield
// CHECK: nvvm.mma.sync
// CHECK: math.exp2
// CHECK: vector.store
// The state update takes its xᵀ operands from the x fragments of G·x, and
// loads only B (transposed).
// CHECK: default {
// CHECK-NEXT: ub.poison : f32
// CHECK-NOT: gpu.barrier
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true} : memref<96x72xbf16
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true} : memref<96x72xbf16
// CHECK: nvvm.mma.sync
// CHECK-NOT: memref<96x72xbf16
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true} : memref<96x136xbf16
// Lanes 2k and 2k + 1 swap one packed pair of outputs, and each stores four
// consecutive columns.
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32{{.*}}, %c32_i32{{.*}} : i32
// CHECK: scf.if
// CHECK-NOT: scf.if
// CHECK: vector.store {{.*}} {alignment = 8 : i64} : memref<?xbf16>, vector<4xbf16>
// CHECK: } else {
// CHECK: scf.if
// CHECK: vector.store {{.*}} {alignment = 8 : i64} : memref<?xbf16>, vector<4xbf16>
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield {{.*}} : f32, f32, f32, f32, f32, f32

// The carry kernel's 64-step chunks, two ahead: three buffers of 64 rows,
// and the one barrier at the top of each chunk.
// CHECK-LABEL: gpu.func @two_stages_ssd_chunk_0_carry(
// CHECK: memref.view {{.*}} to memref<192x72xbf16
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield {{.*}} : f32, f32, f32, f32, f32, f32
// CHECK-LABEL: gpu.func @two_stages_ssd_chunk_0(
// CHECK: memref.view {{.*}} to memref<96x72xbf16
// CHECK: memref.view {{.*}} to memref<96x136xbf16
// CHECK: memref.view {{.*}} to memref<96x136xbf16
// CHECK: nvvm.cp.async.wait.group 1
// CHECK: gpu.barrier
// CHECK: scf.index_switch
// CHECK: default {
// CHECK: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield {{.*}} : f32, f32, f32, f32, f32, f32
func.func @mamba2(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                  %A: tensor<8xf32>, %B: tensor<?x?x2x128xbf16>,
                  %C: tensor<?x?x2x128xbf16>, %D: tensor<8xf32>,
                  %z: tensor<?x?x8x64xbf16>, %bias: tensor<8xf32>,
                  %h0: tensor<?x8x64x128xf32>)
    -> (tensor<?x?x8x64xbf16>, tensor<?x8x64x128xf32>) {
  %y, %s = ssm.ssd_chunk %x, %dt, %A, %B, %C skip %D gate %z bias %bias
      init %h0 softplus chunk_size = 64 headdim = 64 ngroups = 2
      tile = <threads = 128, items = 64>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x2x128xbf16>, tensor<?x?x2x128xbf16>, tensor<8xf32>,
         tensor<?x?x8x64xbf16>, tensor<8xf32>, tensor<?x8x64x128xf32>)
      -> (tensor<?x?x8x64xbf16>, tensor<?x8x64x128xf32>)
  return %y, %s : tensor<?x?x8x64xbf16>, tensor<?x8x64x128xf32>
}

func.func @three_stages(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                        %A: tensor<8xf32>, %B: tensor<?x?x2x128xbf16>,
                        %C: tensor<?x?x2x128xbf16>)
    -> tensor<?x?x8x64xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C chunk_size = 64 headdim = 64
      ngroups = 2 tile = <threads = 128, items = 64, stages = 3, steps = 32>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x2x128xbf16>, tensor<?x?x2x128xbf16>)
      -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

func.func @two_stages(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                      %A: tensor<8xf32>, %B: tensor<?x?x2x128xbf16>,
                      %C: tensor<?x?x2x128xbf16>)
    -> tensor<?x?x8x64xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C chunk_size = 64 headdim = 64
      ngroups = 2 tile = <threads = 128, items = 64, steps = 32>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x2x128xbf16>, tensor<?x?x2x128xbf16>)
      -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}
