// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s

// With a norm the SSD kernel writes y, ungated, to a workspace of y's type
// and takes no gate; a gated RMSNorm kernel then reads the workspace and z
// as [B, L, H·P] rows and writes y. Its group here (256 = 4 heads) spans
// more than one block's head-dim columns, so it cannot run in the scan's
// epilogue.

// CHECK-LABEL: func.func @norm(
// CHECK-SAME: %[[X:[^:]*]]: memref<?x?x8x64xbf16>
// CHECK-SAME: %[[Z:[^:]*]]: memref<?x?x8x64xbf16>
// CHECK-SAME: %[[W:[^:]*]]: memref<512xbf16>
// CHECK-SAME: %[[Y:[^:]*]]: memref<?x?x8x64xbf16>
// CHECK: %[[RAW:.*]] = memref.alloc(%{{.*}}, %{{.*}}) {ssm.name = "y_unnormed"} : memref<?x?x8x64xbf16>
// CHECK-DAG: memref.collapse_shape %[[RAW]] {{\[}}[0], [1], [2, 3]] : memref<?x?x8x64xbf16> into memref<?x?x512xbf16>
// CHECK-DAG: memref.collapse_shape %[[Z]] {{\[}}[0], [1], [2, 3]]
// CHECK-DAG: memref.collapse_shape %[[Y]] {{\[}}[0], [1], [2, 3]]
// The scan's parameters: x, dt, A, B, C, D, then the workspace (no z), the
// segments' carries and the handoffs.
// CHECK: gpu.launch_func @ssm_kernels::@norm_ssd_chunk_0 blocks {{.*}} args(%{{[^:]*}} : memref<1xbf16>, %{{[^:]*}} : memref<1xbf16>, %{{[^:]*}} : memref<1xf32>, %{{[^:]*}} : memref<1xbf16>, %{{[^:]*}} : memref<1xbf16>, %{{[^:]*}} : memref<1xf32>, %{{[^:]*}} : memref<1xbf16>, %{{[^:]*}} : memref<1xf32>, %{{[^:]*}} : memref<1xf32>, %{{[^:]*}} : memref<1xf32>, %{{[^:]*}} : memref<1xf32>, %{{[^:]*}} : index, %{{[^:]*}} : index, %{{[^:]*}} : index)
// The norm: two groups per row in grid z.
// CHECK: gpu.launch_func @ssm_kernels::@norm_ssd_chunk_0_norm blocks in (%{{.*}}, %{{.*}}, %c2{{.*}})
// CHECK-SAME: {ssm.op = "ssd_chunk", ssm.tile = #ssm.tile<threads = 128, items = 64>}
// CHECK: memref.dealloc %[[RAW]]
// CHECK: gpu.func @norm_ssd_chunk_0(
// CHECK: gpu.func @norm_ssd_chunk_0_norm(
func.func @norm(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                %A: tensor<8xf32>, %B: tensor<?x?x1x128xbf16>,
                %C: tensor<?x?x1x128xbf16>, %D: tensor<8xf32>,
                %z: tensor<?x?x8x64xbf16>, %w: tensor<512xbf16>)
    -> tensor<?x?x8x64xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C skip %D gate %z norm_weight %w
      softplus chunk_size = 64 headdim = 64 ngroups = 1
      norm = <group_size = 256, eps = 1.0e-05 : f64>
      tile = <threads = 128, items = 64>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<8xf32>,
         tensor<?x?x8x64xbf16>, tensor<512xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}
