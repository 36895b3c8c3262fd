// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s

// With an L segment length (tile chunk > 0) a carry kernel sums each
// segment's state from zero and records it with the segment's decay sum in
// two workspaces; the scan kernel starts each segment from the carried-in
// state. The scan's units are (head-dim tile and head, segment, batch
// entry), ceil(L / chunk) segments; the carry kernel and the workspaces have
// one fewer, as the last segment carries nothing on.

// CHECK-LABEL: func.func @segments(
// CHECK: %[[B:.*]] = memref.dim %{{.*}}, %c0
// CHECK: %[[L:.*]] = memref.dim %{{.*}}, %c1
// CHECK: %[[S:.*]] = arith.ceildivui %[[L]], %c1024
// CHECK: %[[CARRIED:.*]] = arith.subi %[[S]], %c1
// CHECK: %[[STATE:.*]] = memref.alloc(%[[B]], %[[CARRIED]]) {ssm.name = "carry_state"} : memref<?x?x8x64x128xf32>
// CHECK: %[[SUM:.*]] = memref.alloc(%[[B]], %[[CARRIED]]) {ssm.name = "carry_decay"} : memref<?x?x8xf32>
// CHECK: %[[W:.*]] = ssm.worker_count(%c8, %[[S]], %[[B]]) per_sm 2
// The carry kernel stages no C and no G: 1024-step segments are whole
// 64-step chunks, which it walks three stages deep (x, B, Acum and Δ and
// the warps' Acum run totals three times).
// CHECK: gpu.launch_func @ssm_kernels::@segments_ssd_chunk_0_carry blocks in (%c8, %[[CARRIED]], %[[B]])
// CHECK-SAME: dynamic_shared_memory_size %c81456_i32
// CHECK: gpu.launch_func @ssm_kernels::@segments_ssd_chunk_0 blocks in (%[[W]],
// CHECK-SAME: dynamic_shared_memory_size %c98304_i32
// CHECK: memref.dealloc %[[STATE]]
// CHECK: memref.dealloc %[[SUM]]

// The carry kernel reads x, dt, A and B and writes the two carries; it has
// no G phase (no index_switch) and one barrier per chunk.
// CHECK: gpu.func @segments_ssd_chunk_0_carry(%arg0: memref<1xbf16> {{.*}}, %arg3: memref<1xbf16> {{.*}}, %arg4: memref<1xf32> {llvm.align = 16 : i64, llvm.noalias}, %arg5: memref<1xf32> {llvm.align = 16 : i64, llvm.noalias}, %arg6: index, %arg7: index)
// CHECK: scf.for
// CHECK-NOT: scf.index_switch
// CHECK: nvvm.mma.sync
// CHECK: scf.yield
// CHECK-NOT: scf.index_switch
// CHECK: gpu.return

// The scan kernel carries the earlier segments in before a unit's chunk
// loop and writes the final state from the last segment only.
// CHECK: gpu.func @segments_ssd_chunk_0(
// CHECK: scf.for
// CHECK: %[[UNIT:.*]] = arith.divui %{{.*}}, %c8
// CHECK: %[[SEG2:.*]] = arith.remui %[[UNIT]], %{{.*}} : index
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %[[SEG2]]
// CHECK: math.exp2
// CHECK: scf.yield
// CHECK: scf.for
// CHECK: scf.index_switch
// CHECK: arith.cmpi eq, %[[SEG2]]
// CHECK-NEXT: scf.if
func.func @segments(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                    %A: tensor<8xf32>, %B: tensor<?x?x1x128xbf16>,
                    %C: tensor<?x?x1x128xbf16>, %h0: tensor<?x8x64x128xf32>)
    -> (tensor<?x?x8x64xbf16>, tensor<?x8x64x128xf32>) {
  %y, %s = ssm.ssd_chunk %x, %dt, %A, %B, %C init %h0 softplus
      chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 64, chunk = 1024>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>,
         tensor<?x8x64x128xf32>)
      -> (tensor<?x?x8x64xbf16>, tensor<?x8x64x128xf32>)
  return %y, %s : tensor<?x?x8x64xbf16>, tensor<?x8x64x128xf32>
}
