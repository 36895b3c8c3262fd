// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s

// VMamba's SS2D scan over a 7 x 9 grid (L = 63): its four directions run in
// parallel block rows (grid z = 4, one specialized case each) that store
// their ungated sums, skip included, in slabs of a [B, 4, L, D] workspace;
// a merge kernel sums the slabs and gates them with z. No L segments, no
// carry kernel. The column-major directions (cases 1 and 3) map step t to
// token (t mod 7)·9 + t / 7; the row-major ones (0 and 2) index t itself.

// CHECK-LABEL: func.func @cross_scan(
// CHECK: %[[P:.*]] = memref.alloc(%{{.*}}) {ssm.name = "cross_partials"} : memref<?x4x63x32xbf16>
// CHECK-NOT: carry
// CHECK: gpu.launch_func @ssm_kernels::@cross_scan_selective_scan_0 blocks in (%c1{{[_0-9]*}}, %{{.*}}, %c4)
// CHECK: gpu.launch_func @ssm_kernels::@cross_scan_selective_scan_0_merge blocks in (%c1{{[_0-9]*}}, %{{.*}}, %c1{{[_0-9]*}}) threads in (%c256,
// CHECK: gpu.func @cross_scan_selective_scan_0(
// CHECK: scf.index_switch %block_id_z
// CHECK-NEXT: case 0 {
// CHECK-NOT: arith.divui %{{.*}}, %c7_i32
// CHECK: case 1 {
// CHECK: %[[T:.*]] = arith.index_castui %{{.*}} : index to i32
// CHECK-NEXT: %c7_i32 = arith.constant 7 : i32
// CHECK-NEXT: %c9_i32 = arith.constant 9 : i32
// CHECK-NEXT: %[[COL:.*]] = arith.divui %[[T]], %c7_i32 : i32
// CHECK-NEXT: %[[ROW:.*]] = arith.remui %[[T]], %c7_i32 : i32
// CHECK-NEXT: %[[RW:.*]] = arith.muli %[[ROW]], %c9_i32 : i32
// CHECK-NEXT: arith.addi %[[RW]], %[[COL]] : i32
// CHECK: case 2 {
// CHECK-NOT: arith.divui %{{.*}}, %c7_i32
// CHECK: case 3 {
// CHECK: arith.divui %{{.*}}, %c7_i32{{[_0-9]*}} : i32
// CHECK: default {
// CHECK: gpu.func @cross_scan_selective_scan_0_merge(
// CHECK-COUNT-4: vector.load %{{.*}} : memref<?xbf16>, vector<8xbf16>
// CHECK: vector.load %{{.*}} : memref<?xbf16>, vector<8xbf16>
// CHECK: tanh
// CHECK: vector.store %{{.*}} : memref<?xbf16>, vector<8xbf16>
func.func @cross_scan(%u: tensor<?x63x32xbf16>, %delta: tensor<?x63x128xbf16>,
                      %A: tensor<128x16xf32>, %B: tensor<?x63x4x16xbf16>,
                      %D: tensor<128xf32>, %z: tensor<?x63x32xbf16>)
    -> (tensor<?x63x32xbf16>, tensor<?x128x16xf32>) {
  %y, %h = ssm.selective_scan %u, %delta, %A, %B, %B skip %D gate %z
      cross_scan [7, 9] layout = channel_last
      tile = <threads = 64, items = 8, lanes = 2>
      : (tensor<?x63x32xbf16>, tensor<?x63x128xbf16>, tensor<128x16xf32>,
         tensor<?x63x4x16xbf16>, tensor<?x63x4x16xbf16>, tensor<128xf32>,
         tensor<?x63x32xbf16>)
      -> (tensor<?x63x32xbf16>, tensor<?x128x16xf32>)
  return %y, %h : tensor<?x63x32xbf16>, tensor<?x128x16xf32>
}
