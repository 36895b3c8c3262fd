// RUN: ssm-opt %s -split-input-file -ssm-fuse-discretize | FileCheck %s

// ssm.scan over the results of one ssm.discretize becomes one
// ssm.selective_scan; everything else is left alone.

// CHECK-LABEL: func.func @fuse_minimal
// CHECK-SAME: (%[[DELTA:[^:]+]]: tensor<?x512x?xbf16>, %[[A:[^:]+]]: tensor<512x16xf32>, %[[B:[^:]+]]: tensor<?x16x?xbf16>, %[[U:[^:]+]]: tensor<?x512x?xbf16>, %[[C:[^:]+]]: tensor<?x16x?xbf16>)
func.func @fuse_minimal(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK-NOT: ssm.discretize
  // CHECK: %[[Y:.*]] = ssm.selective_scan %[[U]], %[[DELTA]], %[[A]], %[[B]], %[[C]] layout = channel_first :
  // CHECK-SAME: (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  // CHECK-NOT: ssm.scan
  // CHECK: return %[[Y]]
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// -----

// softplus and bias come from the discretize; init, reverse and the last
// state from the scan.
// CHECK-LABEL: func.func @fuse_carries_options
// CHECK-SAME: (%[[DELTA:[^:]+]]: tensor<?x?x512xbf16>, %[[A:[^:]+]]: tensor<512x16xf32>, %[[B:[^:]+]]: tensor<?x?x4x16xbf16>, %[[DB:[^:]+]]: tensor<512xf32>, %[[U:[^:]+]]: tensor<?x?x512xbf16>, %[[C:[^:]+]]: tensor<?x?x4x16xbf16>, %[[H0:[^:]+]]: tensor<?x512x16xf32>)
func.func @fuse_carries_options(%delta: tensor<?x?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x?x4x16xbf16>, %db: tensor<512xf32>, %u: tensor<?x?x512xbf16>, %C: tensor<?x?x4x16xbf16>, %h0: tensor<?x512x16xf32>) -> (tensor<?x?x512xbf16>, tensor<?x512x16xf32>) {
  // CHECK-NOT: ssm.discretize
  // CHECK: %[[Y:.*]], %[[H:.*]] = ssm.selective_scan %[[U]], %[[DELTA]], %[[A]], %[[B]], %[[C]] bias %[[DB]] init %[[H0]] softplus reverse layout = channel_last :
  // CHECK-SAME: -> (tensor<?x?x512xbf16>, tensor<?x512x16xf32>)
  // CHECK-NOT: ssm.scan
  // CHECK: return %[[Y]], %[[H]]
  %abar, %bbar = ssm.discretize %delta, %A, %B bias %db softplus layout = channel_last mode = zoh_simplified
      : (tensor<?x?x512xbf16>, tensor<512x16xf32>, tensor<?x?x4x16xbf16>, tensor<512xf32>) -> (tensor<?x?x512x16xf32>, tensor<?x?x512x16xf32>)
  %y, %h = ssm.scan %abar, %bbar, %u, %C init %h0 reverse layout = channel_last
      : (tensor<?x?x512x16xf32>, tensor<?x?x512x16xf32>, tensor<?x?x512xbf16>, tensor<?x?x4x16xbf16>, tensor<?x512x16xf32>)
      -> (tensor<?x?x512xbf16>, tensor<?x512x16xf32>)
  return %y, %h : tensor<?x?x512xbf16>, tensor<?x512x16xf32>
}

// -----

// Per-channel (rank 2) B and C with static sizes.
// CHECK-LABEL: func.func @fuse_per_channel_static
func.func @fuse_per_channel_static(%delta: tensor<2x256x1024xf32>, %A: tensor<256x8xf32>, %B: tensor<256x8xf32>, %u: tensor<2x256x1024xf32>, %C: tensor<256x8xf32>) -> tensor<2x256x1024xf32> {
  // CHECK-NOT: ssm.discretize
  // CHECK: ssm.selective_scan {{.*}} layout = channel_first :
  // CHECK-SAME: (tensor<2x256x1024xf32>, tensor<2x256x1024xf32>, tensor<256x8xf32>, tensor<256x8xf32>, tensor<256x8xf32>) -> tensor<2x256x1024xf32>
  // CHECK-NOT: ssm.scan
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<2x256x1024xf32>, tensor<256x8xf32>, tensor<256x8xf32>) -> (tensor<2x256x1024x8xf32>, tensor<2x256x1024x8xf32>)
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<2x256x1024x8xf32>, tensor<2x256x1024x8xf32>, tensor<2x256x1024xf32>, tensor<256x8xf32>) -> tensor<2x256x1024xf32>
  return %y : tensor<2x256x1024xf32>
}

// -----

// Two independent pairs in one function are both fused.
// CHECK-LABEL: func.func @fuse_two_pairs
func.func @fuse_two_pairs(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %u: tensor<?x512x?xbf16>) -> (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>) {
  // CHECK-NOT: ssm.discretize
  // CHECK-COUNT-2: ssm.selective_scan
  // CHECK-NOT: ssm.scan
  %a0, %b0 = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %y0 = ssm.scan %a0, %b0, %u, %B layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %a1, %b1 = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %y1 = ssm.scan %a1, %b1, %u, %B reverse layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y0, %y1 : tensor<?x512x?xbf16>, tensor<?x512x?xbf16>
}

// -----

// The exact ZOH discretization has no fused kernel.
// CHECK-LABEL: func.func @no_fuse_zoh_exact
func.func @no_fuse_zoh_exact(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: ssm.discretize {{.*}} mode = zoh_exact
  // CHECK: ssm.scan
  // CHECK-NOT: ssm.selective_scan
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_exact
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// -----

// abar is also returned: the discretize must stay, so nothing is fused.
// CHECK-LABEL: func.func @no_fuse_abar_other_user
func.func @no_fuse_abar_other_user(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) -> (tensor<?x512x?xbf16>, tensor<?x512x?x16xf32>) {
  // CHECK: %[[ABAR:.*]], %{{.*}} = ssm.discretize
  // CHECK: ssm.scan %[[ABAR]]
  // CHECK-NOT: ssm.selective_scan
  // CHECK: return %{{.*}}, %[[ABAR]]
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y, %abar : tensor<?x512x?xbf16>, tensor<?x512x?x16xf32>
}

// -----

// Two scans read the same discretized tensors: neither is fused.
// CHECK-LABEL: func.func @no_fuse_two_scans_share_discretize
func.func @no_fuse_two_scans_share_discretize(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) -> (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>) {
  // CHECK: ssm.discretize
  // CHECK-COUNT-2: ssm.scan
  // CHECK-NOT: ssm.selective_scan
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %y0 = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %y1 = ssm.scan %abar, %bbar, %u, %C reverse layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y0, %y1 : tensor<?x512x?xbf16>, tensor<?x512x?xbf16>
}

// -----

// abar and bbar come from different discretize ops.
// CHECK-LABEL: func.func @no_fuse_different_discretize
func.func @no_fuse_different_discretize(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[A0:.*]], %{{.*}} = ssm.discretize
  // CHECK: %{{.*}}, %[[B1:.*]] = ssm.discretize
  // CHECK: ssm.scan %[[A0]], %[[B1]]
  // CHECK-NOT: ssm.selective_scan
  %a0, %b0 = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %a1, %b1 = ssm.discretize %delta, %A, %B softplus layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %y = ssm.scan %a0, %b1, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// -----

// abar and bbar swapped: both come from one discretize, but not in place.
// CHECK-LABEL: func.func @no_fuse_swapped_results
func.func @no_fuse_swapped_results(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[ABAR:.*]], %[[BBAR:.*]] = ssm.discretize
  // CHECK: ssm.scan %[[BBAR]], %[[ABAR]]
  // CHECK-NOT: ssm.selective_scan
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %y = ssm.scan %bbar, %abar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// -----

// With D = L the shapes allow a channel_last scan over a channel_first
// discretize; the layouts differ, so nothing is fused.
// CHECK-LABEL: func.func @no_fuse_layouts_differ
func.func @no_fuse_layouts_differ(%delta: tensor<2x64x64xbf16>, %A: tensor<64x16xf32>, %B: tensor<64x16xbf16>, %u: tensor<2x64x64xbf16>) -> tensor<2x64x64xbf16> {
  // CHECK: ssm.discretize {{.*}} layout = channel_first
  // CHECK: ssm.scan {{.*}} layout = channel_last
  // CHECK-NOT: ssm.selective_scan
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<2x64x64xbf16>, tensor<64x16xf32>, tensor<64x16xbf16>) -> (tensor<2x64x64x16xf32>, tensor<2x64x64x16xf32>)
  %y = ssm.scan %abar, %bbar, %u, %B layout = channel_last
      : (tensor<2x64x64x16xf32>, tensor<2x64x64x16xf32>, tensor<2x64x64xbf16>, tensor<64x16xbf16>) -> tensor<2x64x64xbf16>
  return %y : tensor<2x64x64xbf16>
}

// -----

// A scan whose discretized tensors are function arguments is left alone.
// CHECK-LABEL: func.func @no_fuse_without_discretize
func.func @no_fuse_without_discretize(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: ssm.scan
  // CHECK-NOT: ssm.selective_scan
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// -----

// A Δ in another precision than u stays unfused: the fused scan reads Δ at
// the precision of u.
// CHECK-LABEL: func.func @delta_precision_differs
// CHECK: ssm.discretize
// CHECK: ssm.scan
func.func @delta_precision_differs(%delta: tensor<?x64x?xf32>, %A: tensor<64x16xf32>,
                                   %B: tensor<?x16x?xf32>, %u: tensor<?x64x?xbf16>,
                                   %C: tensor<?x16x?xbf16>)
    -> tensor<?x64x?xbf16> {
  %a, %b = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x64x?xf32>, tensor<64x16xf32>, tensor<?x16x?xf32>)
      -> (tensor<?x64x?x16xf32>, tensor<?x64x?x16xf32>)
  %y = ssm.scan %a, %b, %u, %C layout = channel_first
      : (tensor<?x64x?x16xf32>, tensor<?x64x?x16xf32>, tensor<?x64x?xbf16>,
         tensor<?x16x?xbf16>) -> tensor<?x64x?xbf16>
  return %y : tensor<?x64x?xbf16>
}

// -----

// A bidirectional scan stays one: the fused op keeps the attribute.
// CHECK-LABEL: func.func @fuse_bidirectional
// CHECK: ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} softplus bidirectional layout = channel_first
// CHECK-SAME: -> tensor<?x128x?xbf16>
func.func @fuse_bidirectional(%delta: tensor<?x256x?xbf16>, %A: tensor<256x16xf32>, %B: tensor<?x2x16x?xbf16>, %u: tensor<?x256x?xbf16>) -> tensor<?x128x?xbf16> {
  %abar, %bbar = ssm.discretize %delta, %A, %B softplus layout = channel_first mode = zoh_simplified
      : (tensor<?x256x?xbf16>, tensor<256x16xf32>, tensor<?x2x16x?xbf16>) -> (tensor<?x256x?x16xf32>, tensor<?x256x?x16xf32>)
  %y = ssm.scan %abar, %bbar, %u, %B bidirectional layout = channel_first
      : (tensor<?x256x?x16xf32>, tensor<?x256x?x16xf32>, tensor<?x256x?xbf16>, tensor<?x2x16x?xbf16>) -> tensor<?x128x?xbf16>
  return %y : tensor<?x128x?xbf16>
}

// -----

// A bidirectional scan whose B has one group (not one a direction) stays
// unfused: the fused op would split B's groups between the directions.
// CHECK-LABEL: func.func @no_fuse_bidirectional_odd_groups
// CHECK: ssm.discretize
// CHECK: ssm.scan
func.func @no_fuse_bidirectional_odd_groups(%delta: tensor<?x256x?xbf16>, %A: tensor<256x16xf32>, %B: tensor<?x1x16x?xbf16>, %u: tensor<?x256x?xbf16>, %C: tensor<?x2x16x?xbf16>) -> tensor<?x128x?xbf16> {
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x256x?xbf16>, tensor<256x16xf32>, tensor<?x1x16x?xbf16>) -> (tensor<?x256x?x16xf32>, tensor<?x256x?x16xf32>)
  %y = ssm.scan %abar, %bbar, %u, %C bidirectional layout = channel_first
      : (tensor<?x256x?x16xf32>, tensor<?x256x?x16xf32>, tensor<?x256x?xbf16>, tensor<?x2x16x?xbf16>) -> tensor<?x128x?xbf16>
  return %y : tensor<?x128x?xbf16>
}

// -----

// Grouped B and C with different group counts stay unfused: the fused
// scan reads both at one group index.
// CHECK-LABEL: func.func @no_fuse_group_counts_differ
// CHECK: ssm.discretize
// CHECK: ssm.scan
// CHECK-NOT: ssm.selective_scan
func.func @no_fuse_group_counts_differ(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x2x16x?xbf16>, %u: tensor<?x512x?xbf16>, %C: tensor<?x4x16x?xbf16>) -> tensor<?x512x?xbf16> {
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x2x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x4x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}
