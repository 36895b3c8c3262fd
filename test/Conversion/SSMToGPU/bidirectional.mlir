// RUN: ssm-opt %s -convert-ssm-to-gpu | FileCheck %s

// Vim's two scans in one launch: u, Δ, A, B/C, D and the carries have both
// directions' channels (256, two groups), z and y one direction's (128), so
// the grid has 128 / 64 blocks in x. Each block scans its channels forward,
// storing the ungated sums in y, then, after a barrier, backward, adding
// those sums before the gate.

// CHECK-LABEL: func.func @bidirectional(
// CHECK: memref.alloc(%{{.*}}, %{{.*}}) {ssm.name = "carry_state"} : memref<?x?x256x16xf32>
// CHECK: gpu.launch_func @ssm_kernels::@bidirectional_selective_scan_0_carry blocks in (%c2{{[_0-9]*}}, 
// CHECK: gpu.launch_func @ssm_kernels::@bidirectional_selective_scan_0 blocks in (%c2{{[_0-9]*}}, 
// CHECK: gpu.func @bidirectional_selective_scan_0(
// CHECK: %[[IN:.*]] = arith.muli %{{.*}}, %c256
// CHECK: %[[IN_L:.*]] = arith.muli %[[IN]], %{{.*}}
// CHECK: %[[OUT:.*]] = arith.muli %{{.*}}, %c128
// CHECK: %[[OUT_L:.*]] = arith.muli %[[OUT]], %{{.*}}
// CHECK: memref.reinterpret_cast %arg0 to offset: [0], sizes: [%[[IN_L]]],
// CHECK: %[[Y:.*]] = memref.reinterpret_cast %arg7 to offset: [0], sizes: [%[[OUT_L]]],
// CHECK: %[[Z:.*]] = memref.reinterpret_cast %arg6 to offset: [0], sizes: [%[[OUT_L]]],
// CHECK-NOT: vector.load %[[Z]]
// CHECK: vector.store %{{.*}}, %[[Y]]
// CHECK-NOT: vector.load %[[Z]]
// CHECK: {{^      }}gpu.barrier
// CHECK: vector.load %[[Z]]
// CHECK: vector.load %[[Y]]
// CHECK: vector.store %{{.*}}, %[[Y]]
func.func @bidirectional(%u: tensor<?x256x?xbf16>, %delta: tensor<?x256x?xbf16>,
                         %A: tensor<256x16xf32>, %B: tensor<?x2x16x?xbf16>,
                         %D: tensor<256xf32>, %z: tensor<?x128x?xbf16>)
    -> (tensor<?x128x?xbf16>, tensor<?x256x16xf32>) {
  %y, %h = ssm.selective_scan %u, %delta, %A, %B, %B skip %D gate %z
      bidirectional layout = channel_first tile = <threads = 64, items = 8>
      : (tensor<?x256x?xbf16>, tensor<?x256x?xbf16>, tensor<256x16xf32>,
         tensor<?x2x16x?xbf16>, tensor<?x2x16x?xbf16>, tensor<256xf32>,
         tensor<?x128x?xbf16>)
      -> (tensor<?x128x?xbf16>, tensor<?x256x16xf32>)
  return %y, %h : tensor<?x128x?xbf16>, tensor<?x256x16xf32>
}
