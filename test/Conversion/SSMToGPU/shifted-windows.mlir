// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s

// A channel-first row that is not 16-byte aligned (L not a multiple of the 8
// bf16 steps of a vector) shifts each thread's windows to aligned ones and
// runs them all in one software-pipelined loop. Window 0 and the windows
// from `full` on reach outside the steps [lo, hi): they run masked (Δ zeroed
// and the states kept at the steps outside, the outputs stored one by one
// where they are in range); the others store 128-bit vectors. Every load is
// a 128-bit vector, its offset clamped into its operand, as the outer
// windows of the tensor's first and last rows reach past it (a clamped
// vector then holds masked steps only: D and N are multiples of 8).

// CHECK-LABEL: gpu.func @shifted_selective_scan_0(
// The windows of the aligned branch, then of the shifted one.
// CHECK: arith.ceildivui %{{.*}}, %c8
// CHECK: %[[WINDOWS:.*]] = arith.ceildivui %{{.*}}, %c8
// CHECK: %[[LOW:.*]] = arith.maxsi %{{.*}}, %c0{{.*}} : index
// CHECK: %[[IN:.*]] = arith.minsi %[[LOW]], %{{.*}} : index
// CHECK: vector.load %{{.*}}[%[[IN]]] {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: scf.for %[[K:.*]] = %c0{{.*}} to %[[WINDOWS]] step %{{.*}} iter_args({{.*}}) -> ({{.*}}, vector<8xbf16>, vector<8xbf16>)
// CHECK-NEXT: gpu.barrier
// CHECK: %[[NEXT_LOW:.*]] = arith.maxsi %{{.*}}, %c0{{.*}} : index
// CHECK: %[[NEXT:.*]] = arith.minsi %[[NEXT_LOW]], %{{.*}} : index
// CHECK: vector.load %{{.*}}[%[[NEXT]]] {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[K]], %c0{{.*}} : index
// CHECK: %[[OUTER:.*]] = arith.cmpi uge, %[[K]], %{{.*}} : index
// CHECK: %[[MASKED:.*]] = arith.ori %[[FIRST]], %[[OUTER]] : i1
// CHECK: scf.if %[[MASKED]] -> (
// CHECK: %[[VALID:.*]] = arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK: arith.select %[[VALID]], %{{.*}}, %cst{{.*}} : f32
// CHECK: math.exp2
// CHECK: arith.select %[[VALID]], %{{.*}}, %{{.*}} : f32
// CHECK: scf.if %{{.*}} {
// CHECK: memref.store %{{.*}} : memref<?xbf16>
// CHECK-NOT: vector.store
// CHECK: } else {
// CHECK-NOT: arith.select
// CHECK: vector.store %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: scf.yield
// CHECK: scf.yield {{.*}} vector<8xbf16>, vector<8xbf16>
func.func @shifted(%u: tensor<?x256x?xbf16>, %A: tensor<256x16xf32>,
                   %B: tensor<?x16x?xbf16>) -> tensor<?x256x?xbf16> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      tile = <threads = 64, items = 8>
      : (tensor<?x256x?xbf16>, tensor<?x256x?xbf16>, tensor<256x16xf32>,
         tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x256x?xbf16>
  return %y : tensor<?x256x?xbf16>
}
