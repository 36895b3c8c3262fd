// RUN: ssm-opt %s -split-input-file -ssm-tile | FileCheck %s

// A block owns channels of one direction: with shared B/C (one group over
// both directions' 192 channels) the heuristic's f32 tile must divide the 96
// of a direction, so it takes 32 threads, not the 64 that divide 192.
// CHECK-LABEL: func.func @bidirectional_shared
// CHECK: tile = <threads = 32, items = 8>
func.func @bidirectional_shared(%u: tensor<?x?x192xf32>, %A: tensor<192x8xf32>, %B: tensor<?x?x8xf32>) -> tensor<?x?x96xf32> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B bidirectional layout = channel_last
      : (tensor<?x?x192xf32>, tensor<?x?x192xf32>, tensor<192x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x96xf32>
  return %y : tensor<?x?x96xf32>
}

// -----

// Grouped B/C hold each direction's groups: 2 x 2 groups over 2 x 256
// channels leave 128 a group.
// CHECK-LABEL: func.func @bidirectional_grouped
// CHECK: tile = <threads = 128, items = 16, lanes = 2>
func.func @bidirectional_grouped(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x4x16x?xbf16>) -> tensor<?x256x?xbf16> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B bidirectional layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x4x16x?xbf16>, tensor<?x4x16x?xbf16>) -> tensor<?x256x?xbf16>
  return %y : tensor<?x256x?xbf16>
}

// -----

// A cross scan's blocks own channels of one direction and group too: 4 x 1
// groups over 4 x 32 channels leave 32, so the 16-bit tile takes 32 channels
// of two lanes (64 threads), not 64, and a cross scan's 8 steps a tile.
// CHECK-LABEL: func.func @cross_scan_grouped
// CHECK: tile = <threads = 64, items = 8, lanes = 2>
func.func @cross_scan_grouped(%u: tensor<?x63x32xbf16>, %d: tensor<?x63x128xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x63x4x16xbf16>) -> tensor<?x63x32xbf16> {
  %y = ssm.selective_scan %u, %d, %A, %B, %B cross_scan [7, 9] layout = channel_last
      : (tensor<?x63x32xbf16>, tensor<?x63x128xbf16>, tensor<128x16xf32>, tensor<?x63x4x16xbf16>, tensor<?x63x4x16xbf16>) -> tensor<?x63x32xbf16>
  return %y : tensor<?x63x32xbf16>
}
