// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s

// A selective scan with a folded conv1d (K 3, bias, silu) reads x and makes
// each step's u from the K-1 steps of x before it and its own: the thread
// loads its channel's taps and bias once, each tile loads the halo (the K-1
// steps before it, clamped into the row and zeroed before step 0) beside its
// x vectors, and the scan's u is silu(bias + w0·x[t-2] + w1·x[t-1] +
// w2·x[t]), computed in registers: the conv's output is never stored.

// The carry kernel (L segments) makes u the same way.
// CHECK-LABEL: gpu.func @conv_scan_selective_scan_0_carry(
// CHECK: arith.divf
// CHECK-LABEL: gpu.func @conv_scan_selective_scan_0(
// The taps and the bias of the thread's channel.
// CHECK: %[[ROW:.*]] = arith.muli %[[C:.*]], %c3{{.*}} : index
// CHECK: %[[W0:.*]] = memref.load %[[CONV:.*]][%[[ROW]]] : memref<?xf32>
// CHECK: %[[W1:.*]] = memref.load %[[CONV]][%{{.*}}] : memref<?xf32>
// CHECK: %[[W2:.*]] = memref.load %[[CONV]][%{{.*}}] : memref<?xf32>
// CHECK: %[[BIAS:.*]] = memref.load %{{.*}}[%[[C]]] : memref<?xf32>
// After a tile's u and Δ vectors, its halo at t0 - 2 and t0 - 1, clamped
// into [0, L).
// CHECK: vector.load %{{.*}} : memref<?xf32>, vector<4xf32>
// CHECK: %[[H2:.*]] = arith.addi %{{.*}}, %c-2 : index
// CHECK: %[[H2LOW:.*]] = arith.maxsi %[[H2]], %c0{{.*}} : index
// CHECK: arith.minsi %[[H2LOW]], %{{.*}} : index
// CHECK: memref.load %[[X:.*]][%{{.*}}] : memref<?xf32>
// CHECK: arith.addi %{{.*}}, %c-1 : index
// CHECK: memref.load %[[X]][%{{.*}}] : memref<?xf32>
// In the tile: the halo zeroed before step 0, then the taps of step t0
// (the last one on x[t0]).
// CHECK: %[[BEFORE:.*]] = arith.cmpi sge, %{{.*}}, %c0{{.*}} : index
// CHECK: %[[HALO2:.*]] = arith.select %[[BEFORE]], %{{.*}}, %cst{{.*}} : f32
// CHECK: %[[HALO1:.*]] = arith.select %{{.*}}, %{{.*}}, %cst{{.*}} : f32
// CHECK: %[[S0:.*]] = math.fma %[[W0]], %[[HALO2]], %[[BIAS]] : f32
// CHECK: %[[S1:.*]] = math.fma %[[W1]], %[[HALO1]], %[[S0]] : f32
// CHECK: %[[SUM:.*]] = math.fma %[[W2]], %{{.*}}, %[[S1]] : f32
// silu(sum) = sum / (1 + 2^(-sum·log2 e)).
// CHECK: %[[NEG:.*]] = arith.mulf %[[SUM]], %cst{{.*}} : f32
// CHECK: %[[E:.*]] = math.exp2 %[[NEG]]
// CHECK: %[[DEN:.*]] = arith.addf %[[E]], %cst{{.*}} : f32
// CHECK: arith.divf %[[SUM]], %[[DEN]]
func.func @conv_scan(%x: tensor<?x64x?xf32>, %delta: tensor<?x64x?xf32>, %A: tensor<64x8xf32>, %B: tensor<?x8x?xf32>, %w: tensor<64x3xf32>, %cb: tensor<64xf32>) -> tensor<?x64x?xf32> attributes {ssm.layer} {
  %y = ssm.selective_scan %x, %delta, %A, %B, %B conv %w conv_bias %cb conv_silu layout = channel_first tile = <threads = 64, items = 4>
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64x8xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>, tensor<64x3xf32>, tensor<64xf32>) -> tensor<?x64x?xf32>
  return %y : tensor<?x64x?xf32>
}

// A bf16 layer takes the conv's silu with one SFU op, as the bf16 output gate
// does: s/2 · (1 + tanh(s/2)), tanh.approx through llvm.intr.tanh with afn.
// Its error (2^-12 · |s|) is below the bf16 rounding of the u that the
// unfused conv would store. The carry kernel makes u the same way.
// CHECK-LABEL: gpu.func @conv_scan_bf16_selective_scan_0_carry(
// CHECK-NOT: arith.divf
// CHECK: math.fma %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: %[[CTANH:.*]] = llvm.intr.tanh(%[[CHALF:.*]]) {fastmathFlags = #llvm.fastmath<afn>} : (f32) -> f32
// CHECK-NEXT: math.fma %[[CHALF]], %[[CTANH]], %[[CHALF]] : f32
// CHECK-LABEL: gpu.func @conv_scan_bf16_selective_scan_0(
// CHECK-NOT: arith.divf
// CHECK: math.fma %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: %[[TANH:.*]] = llvm.intr.tanh(%[[HALF:.*]]) {fastmathFlags = #llvm.fastmath<afn>} : (f32) -> f32
// CHECK-NEXT: math.fma %[[HALF]], %[[TANH]], %[[HALF]] : f32
func.func @conv_scan_bf16(%x: tensor<?x64x?xbf16>, %delta: tensor<?x64x?xbf16>, %A: tensor<64x8xf32>, %B: tensor<?x8x?xbf16>, %w: tensor<64x3xf32>, %cb: tensor<64xf32>) -> tensor<?x64x?xbf16> attributes {ssm.layer} {
  %y = ssm.selective_scan %x, %delta, %A, %B, %B conv %w conv_bias %cb conv_silu layout = channel_first tile = <threads = 64, items = 4>
      : (tensor<?x64x?xbf16>, tensor<?x64x?xbf16>, tensor<64x8xf32>, tensor<?x8x?xbf16>, tensor<?x8x?xbf16>, tensor<64x3xf32>, tensor<64xf32>) -> tensor<?x64x?xbf16>
  return %y : tensor<?x64x?xbf16>
}
