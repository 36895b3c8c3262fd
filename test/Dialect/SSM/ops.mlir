// RUN: ssm-opt %s | ssm-opt | FileCheck %s
// RUN: ssm-opt %s --mlir-print-op-generic | ssm-opt | FileCheck %s

// Round-trip of every ssm op in its custom form, with and without each
// optional operand, attribute and result, in both layouts, with the three B/C
// kinds (per channel [D, N], shared rank 3, grouped rank 4) and with static
// and dynamic B/L. The second RUN line goes through the generic form.
//
// Attributes written after `tile =` / `norm =` use the short form the printer
// emits (`tile = <threads = 64, items = 16>`); the full `#ssm.tile<...>` form
// is accepted in the attribute dictionary.

//===----------------------------------------------------------------------===//
// ssm.discretize
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @discretize_shared_channel_first
func.func @discretize_shared_channel_first(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>) {
  // CHECK: ssm.discretize %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first mode = zoh_simplified
  // CHECK-SAME: : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>)
      -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return %abar, %bbar : tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>
}

// CHECK-LABEL: func.func @discretize_grouped_bias_softplus
// CHECK-SAME: %[[DELTA:[^:]+]]: tensor<?x512x?xbf16>, %[[A:[^:]+]]: tensor<512x16xf32>, %[[B:[^:]+]]: tensor<?x4x16x?xbf16>, %[[DB:[^:]+]]: tensor<512xf32>
func.func @discretize_grouped_bias_softplus(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x4x16x?xbf16>, %db: tensor<512xf32>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>) {
  // CHECK: ssm.discretize %[[DELTA]], %[[A]], %[[B]] bias %[[DB]] softplus layout = channel_first mode = zoh_simplified
  // CHECK-SAME: : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x4x16x?xbf16>, tensor<512xf32>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %abar, %bbar = ssm.discretize %delta, %A, %B bias %db softplus layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x4x16x?xbf16>, tensor<512xf32>)
      -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return %abar, %bbar : tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>
}

// Per-channel f32 B with an f16 delta, static sizes, exact ZOH.
// CHECK-LABEL: func.func @discretize_per_channel_exact_channel_last
func.func @discretize_per_channel_exact_channel_last(%delta: tensor<2x64x256xf16>, %A: tensor<256x8xf32>, %B: tensor<256x8xf32>) -> (tensor<2x64x256x8xf32>, tensor<2x64x256x8xf32>) {
  // CHECK: ssm.discretize %{{.*}}, %{{.*}}, %{{.*}} layout = channel_last mode = zoh_exact
  // CHECK-SAME: : (tensor<2x64x256xf16>, tensor<256x8xf32>, tensor<256x8xf32>) -> (tensor<2x64x256x8xf32>, tensor<2x64x256x8xf32>)
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_last mode = zoh_exact
      : (tensor<2x64x256xf16>, tensor<256x8xf32>, tensor<256x8xf32>)
      -> (tensor<2x64x256x8xf32>, tensor<2x64x256x8xf32>)
  return %abar, %bbar : tensor<2x64x256x8xf32>, tensor<2x64x256x8xf32>
}

//===----------------------------------------------------------------------===//
// ssm.scan
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @scan_shared_channel_first
func.func @scan_shared_channel_first(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: ssm.scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first
  // CHECK-SAME: : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>)
      -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// CHECK-LABEL: func.func @scan_grouped_init_reverse_last_state
// CHECK-SAME: %[[ABAR:[^:]+]]: tensor<?x512x?x16xf32>, %[[BBAR:[^:]+]]: tensor<?x512x?x16xf32>, %[[U:[^:]+]]: tensor<?x512x?xbf16>, %[[C:[^:]+]]: tensor<?x8x16x?xbf16>, %[[H0:[^:]+]]: tensor<?x512x16xf32>
func.func @scan_grouped_init_reverse_last_state(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x8x16x?xbf16>, %h0: tensor<?x512x16xf32>) -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.scan %[[ABAR]], %[[BBAR]], %[[U]], %[[C]] init %[[H0]] reverse layout = channel_first
  // CHECK-SAME: : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x8x16x?xbf16>, tensor<?x512x16xf32>) -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>)
  %y, %h = ssm.scan %abar, %bbar, %u, %C init %h0 reverse layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x8x16x?xbf16>, tensor<?x512x16xf32>)
      -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>)
  return %y, %h : tensor<?x512x?xbf16>, tensor<?x512x16xf32>
}

// CHECK-LABEL: func.func @scan_per_channel_channel_last_static
func.func @scan_per_channel_channel_last_static(%abar: tensor<2x64x256x8xf32>, %bbar: tensor<2x64x256x8xf32>, %u: tensor<2x64x256xf32>, %C: tensor<256x8xf32>) -> tensor<2x64x256xf32> {
  // CHECK: ssm.scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} layout = channel_last
  // CHECK-SAME: : (tensor<2x64x256x8xf32>, tensor<2x64x256x8xf32>, tensor<2x64x256xf32>, tensor<256x8xf32>) -> tensor<2x64x256xf32>
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_last
      : (tensor<2x64x256x8xf32>, tensor<2x64x256x8xf32>, tensor<2x64x256xf32>, tensor<256x8xf32>)
      -> tensor<2x64x256xf32>
  return %y : tensor<2x64x256xf32>
}

//===----------------------------------------------------------------------===//
// ssm.selective_scan
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @selective_scan_conv
func.func @selective_scan_conv(%x: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %w: tensor<512x4xf32>, %cb: tensor<512xf32>) -> tensor<?x512x?xbf16> {
  // CHECK: ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} conv %{{.*}} conv_bias %{{.*}} conv_silu softplus layout = channel_first :
  %y = ssm.selective_scan %x, %delta, %A, %B, %B conv %w conv_bias %cb conv_silu softplus layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>, tensor<512x4xf32>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// CHECK-LABEL: func.func @selective_scan_minimal
func.func @selective_scan_minimal(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %C: tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first :
  // CHECK-SAME: (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %y = ssm.selective_scan %u, %delta, %A, %B, %C layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>)
      -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// CHECK-LABEL: func.func @selective_scan_all_options
// CHECK-SAME: %[[U:[^:]+]]: tensor<?x512x?xbf16>, %[[DELTA:[^:]+]]: tensor<?x512x?xbf16>, %[[A:[^:]+]]: tensor<512x16xf32>, %[[B:[^:]+]]: tensor<?x4x16x?xbf16>, %[[C:[^:]+]]: tensor<?x4x16x?xbf16>, %[[D:[^:]+]]: tensor<512xf32>, %[[Z:[^:]+]]: tensor<?x512x?xbf16>, %[[DB:[^:]+]]: tensor<512xf32>, %[[H0:[^:]+]]: tensor<?x512x16xf32>
func.func @selective_scan_all_options(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x4x16x?xbf16>, %C: tensor<?x4x16x?xbf16>, %D: tensor<512xf32>, %z: tensor<?x512x?xbf16>, %db: tensor<512xf32>, %h0: tensor<?x512x16xf32>) -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.selective_scan %[[U]], %[[DELTA]], %[[A]], %[[B]], %[[C]] skip %[[D]] gate %[[Z]] bias %[[DB]] init %[[H0]] softplus reverse layout = channel_first tile = <threads = 64, items = 16> :
  // CHECK-SAME: (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x4x16x?xbf16>, tensor<?x4x16x?xbf16>, tensor<512xf32>, tensor<?x512x?xbf16>, tensor<512xf32>, tensor<?x512x16xf32>) -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>)
  %y, %h = ssm.selective_scan %u, %delta, %A, %B, %C skip %D gate %z bias %db init %h0 softplus reverse
      layout = channel_first tile = <threads = 64, items = 16>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x4x16x?xbf16>, tensor<?x4x16x?xbf16>,
         tensor<512xf32>, tensor<?x512x?xbf16>, tensor<512xf32>, tensor<?x512x16xf32>)
      -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>)
  return %y, %h : tensor<?x512x?xbf16>, tensor<?x512x16xf32>
}

// The gate alone: the operand segments keep it apart from the skip.
// CHECK-LABEL: func.func @selective_scan_gate_only_reverse
// CHECK-SAME: %[[U:[^:]+]]: tensor<?x512x?xbf16>, %{{[^:]+}}: tensor<?x512x?xbf16>, %{{[^:]+}}: tensor<512x16xf32>, %{{[^:]+}}: tensor<?x16x?xbf16>, %{{[^:]+}}: tensor<?x16x?xbf16>, %[[Z:[^:]+]]: tensor<?x512x?xbf16>
func.func @selective_scan_gate_only_reverse(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %C: tensor<?x16x?xbf16>, %z: tensor<?x512x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: ssm.selective_scan %[[U]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} gate %[[Z]] reverse layout = channel_first :
  %y = ssm.selective_scan %u, %delta, %A, %B, %C gate %z reverse layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>, tensor<?x512x?xbf16>)
      -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// The bias alone, without softplus, and the init state alone with the last
// state.
// CHECK-LABEL: func.func @selective_scan_bias_init_last_state
// CHECK-SAME: %[[DB:[^:]+]]: tensor<512xf32>, %[[H0:[^:]+]]: tensor<?x512x16xf32>)
func.func @selective_scan_bias_init_last_state(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %C: tensor<?x16x?xbf16>, %db: tensor<512xf32>, %h0: tensor<?x512x16xf32>) -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} bias %[[DB]] init %[[H0]] layout = channel_first :
  // CHECK-SAME: -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>)
  %y, %h = ssm.selective_scan %u, %delta, %A, %B, %C bias %db init %h0 layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>, tensor<512xf32>, tensor<?x512x16xf32>)
      -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>)
  return %y, %h : tensor<?x512x?xbf16>, tensor<?x512x16xf32>
}

// Grouped f32 B/C with f16 activations, static B and L, skip and softplus.
// CHECK-LABEL: func.func @selective_scan_grouped_channel_last_static
func.func @selective_scan_grouped_channel_last_static(%u: tensor<4x1024x768xf16>, %delta: tensor<4x1024x768xf16>, %A: tensor<768x16xf32>, %B: tensor<4x1024x3x16xf32>, %C: tensor<4x1024x3x16xf32>, %D: tensor<768xf32>) -> tensor<4x1024x768xf16> {
  // CHECK: ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} skip %{{.*}} softplus layout = channel_last :
  // CHECK-SAME: (tensor<4x1024x768xf16>, tensor<4x1024x768xf16>, tensor<768x16xf32>, tensor<4x1024x3x16xf32>, tensor<4x1024x3x16xf32>, tensor<768xf32>) -> tensor<4x1024x768xf16>
  %y = ssm.selective_scan %u, %delta, %A, %B, %C skip %D softplus layout = channel_last
      : (tensor<4x1024x768xf16>, tensor<4x1024x768xf16>, tensor<768x16xf32>, tensor<4x1024x3x16xf32>, tensor<4x1024x3x16xf32>, tensor<768xf32>)
      -> tensor<4x1024x768xf16>
  return %y : tensor<4x1024x768xf16>
}

// CHECK-LABEL: func.func @selective_scan_shared_channel_last
func.func @selective_scan_shared_channel_last(%u: tensor<?x?x512xbf16>, %delta: tensor<?x?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x?x16xbf16>, %C: tensor<?x?x16xf32>) -> tensor<?x?x512xbf16> {
  // CHECK: ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} layout = channel_last :
  // CHECK-SAME: (tensor<?x?x512xbf16>, tensor<?x?x512xbf16>, tensor<512x16xf32>, tensor<?x?x16xbf16>, tensor<?x?x16xf32>) -> tensor<?x?x512xbf16>
  %y = ssm.selective_scan %u, %delta, %A, %B, %C layout = channel_last
      : (tensor<?x?x512xbf16>, tensor<?x?x512xbf16>, tensor<512x16xf32>, tensor<?x?x16xbf16>, tensor<?x?x16xf32>)
      -> tensor<?x?x512xbf16>
  return %y : tensor<?x?x512xbf16>
}

// Per-channel (time-invariant) B and C, f32 everywhere.
// CHECK-LABEL: func.func @selective_scan_per_channel
func.func @selective_scan_per_channel(%u: tensor<1x128x2048xf32>, %delta: tensor<1x128x2048xf32>, %A: tensor<128x4xf32>, %B: tensor<128x4xf32>, %C: tensor<128x4xf32>) -> tensor<1x128x2048xf32> {
  // CHECK: ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first :
  // CHECK-SAME: (tensor<1x128x2048xf32>, tensor<1x128x2048xf32>, tensor<128x4xf32>, tensor<128x4xf32>, tensor<128x4xf32>) -> tensor<1x128x2048xf32>
  %y = ssm.selective_scan %u, %delta, %A, %B, %C layout = channel_first
      : (tensor<1x128x2048xf32>, tensor<1x128x2048xf32>, tensor<128x4xf32>, tensor<128x4xf32>, tensor<128x4xf32>)
      -> tensor<1x128x2048xf32>
  return %y : tensor<1x128x2048xf32>
}

// A tile with non-default chunk and stages, given in the attribute dictionary
// in its full #ssm.tile form; it prints in the `tile =` group.
// CHECK-LABEL: func.func @selective_scan_tile_chunk_stages
func.func @selective_scan_tile_chunk_stages(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %C: tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: ssm.selective_scan {{.*}} layout = channel_first tile = <threads = 128, items = 8, chunk = 2048, stages = 2> :
  %y = ssm.selective_scan %u, %delta, %A, %B, %C layout = channel_first
      {tile = #ssm.tile<threads = 128, items = 8, chunk = 2048, stages = 2>}
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>)
      -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

//===----------------------------------------------------------------------===//
// ssm.skip and ssm.gate
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @skip_channel_first
func.func @skip_channel_first(%y: tensor<?x512x?xbf16>, %u: tensor<?x512x?xbf16>, %D: tensor<512xf32>) -> tensor<?x512x?xbf16> {
  // CHECK: ssm.skip %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first
  // CHECK-SAME: : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  %r = ssm.skip %y, %u, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return %r : tensor<?x512x?xbf16>
}

// CHECK-LABEL: func.func @skip_channel_last_static
func.func @skip_channel_last_static(%y: tensor<2x64x256xf16>, %u: tensor<2x64x256xf16>, %D: tensor<256xf32>) -> tensor<2x64x256xf16> {
  // CHECK: ssm.skip %{{.*}}, %{{.*}}, %{{.*}} layout = channel_last
  // CHECK-SAME: : (tensor<2x64x256xf16>, tensor<2x64x256xf16>, tensor<256xf32>) -> tensor<2x64x256xf16>
  %r = ssm.skip %y, %u, %D layout = channel_last
      : (tensor<2x64x256xf16>, tensor<2x64x256xf16>, tensor<256xf32>) -> tensor<2x64x256xf16>
  return %r : tensor<2x64x256xf16>
}

// CHECK-LABEL: func.func @gate
func.func @gate(%y: tensor<?x512x?xbf16>, %z: tensor<?x512x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: ssm.gate %{{.*}}, %{{.*}} : tensor<?x512x?xbf16>
  %o = ssm.gate %y, %z : tensor<?x512x?xbf16>
  return %o : tensor<?x512x?xbf16>
}

//===----------------------------------------------------------------------===//
// ssm.ssd_chunk
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @ssd_chunk_minimal
func.func @ssd_chunk_minimal(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %C: tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16> {
  // CHECK: ssm.ssd_chunk %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} chunk_size = 256 headdim = 64 ngroups = 1 :
  // CHECK-SAME: (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>)
      -> tensor<?x?x80x64xbf16>
  return %y : tensor<?x?x80x64xbf16>
}

// CHECK-LABEL: func.func @ssd_chunk_all_options
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x4096x8x64xbf16>, %[[DT:[^:]+]]: tensor<2x4096x8xbf16>, %[[A:[^:]+]]: tensor<8xf32>, %[[B:[^:]+]]: tensor<2x4096x2x128xbf16>, %[[C:[^:]+]]: tensor<2x4096x2x128xbf16>, %[[D:[^:]+]]: tensor<8xf32>, %[[Z:[^:]+]]: tensor<2x4096x8x64xbf16>, %[[DTB:[^:]+]]: tensor<8xf32>, %[[S0:[^:]+]]: tensor<2x8x64x128xf32>, %[[W:[^:]+]]: tensor<512xf32>
func.func @ssd_chunk_all_options(%x: tensor<2x4096x8x64xbf16>, %dt: tensor<2x4096x8xbf16>, %A: tensor<8xf32>, %B: tensor<2x4096x2x128xbf16>, %C: tensor<2x4096x2x128xbf16>, %D: tensor<8xf32>, %z: tensor<2x4096x8x64xbf16>, %dtb: tensor<8xf32>, %s0: tensor<2x8x64x128xf32>, %w: tensor<512xf32>) -> (tensor<2x4096x8x64xbf16>, tensor<2x8x64x128xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.ssd_chunk %[[X]], %[[DT]], %[[A]], %[[B]], %[[C]] skip %[[D]] gate %[[Z]] bias %[[DTB]] init %[[S0]] norm_weight %[[W]] softplus
  // CHECK-SAME: chunk_size = 128 headdim = 64 ngroups = 2 norm = <group_size = 256, eps = 1.000000e-05 : f64> tile = <threads = 128, items = 4, chunk = 128> :
  // CHECK-SAME: -> (tensor<2x4096x8x64xbf16>, tensor<2x8x64x128xf32>)
  %y, %s = ssm.ssd_chunk %x, %dt, %A, %B, %C skip %D gate %z bias %dtb init %s0 norm_weight %w softplus
      chunk_size = 128 headdim = 64 ngroups = 2 norm = <group_size = 256, eps = 1.0e-05 : f64>
      tile = <threads = 128, items = 4, chunk = 128>
      : (tensor<2x4096x8x64xbf16>, tensor<2x4096x8xbf16>, tensor<8xf32>, tensor<2x4096x2x128xbf16>, tensor<2x4096x2x128xbf16>,
         tensor<8xf32>, tensor<2x4096x8x64xbf16>, tensor<8xf32>, tensor<2x8x64x128xf32>, tensor<512xf32>)
      -> (tensor<2x4096x8x64xbf16>, tensor<2x8x64x128xf32>)
  return %y, %s : tensor<2x4096x8x64xbf16>, tensor<2x8x64x128xf32>
}

// The norm last before the types, with before_gate, in the full #ssm.norm
// form through the attribute dictionary.
// CHECK-LABEL: func.func @ssd_chunk_norm_before_gate
func.func @ssd_chunk_norm_before_gate(%x: tensor<?x?x80x64xf32>, %dt: tensor<?x?x80xf32>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xf32>, %C: tensor<?x?x1x128xf32>, %w: tensor<5120xf32>) -> tensor<?x?x80x64xf32> {
  // CHECK: ssm.ssd_chunk {{.*}} norm_weight %{{.*}} chunk_size = 256 headdim = 64 ngroups = 1 norm = <group_size = 5120, eps = 1.000000e-08 : f64, before_gate = true> :
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C norm_weight %w chunk_size = 256 headdim = 64 ngroups = 1
      {norm = #ssm.norm<group_size = 5120, eps = 1.0e-08 : f64, before_gate = true>}
      : (tensor<?x?x80x64xf32>, tensor<?x?x80xf32>, tensor<80xf32>, tensor<?x?x1x128xf32>, tensor<?x?x1x128xf32>, tensor<5120xf32>)
      -> tensor<?x?x80x64xf32>
  return %y : tensor<?x?x80x64xf32>
}

// The gate and the initial state alone, with the final state.
// CHECK-LABEL: func.func @ssd_chunk_gate_init_final_state
func.func @ssd_chunk_gate_init_final_state(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x8x128xbf16>, %C: tensor<?x?x8x128xbf16>, %z: tensor<?x?x80x64xbf16>, %s0: tensor<?x80x64x128xf32>) -> (tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.ssd_chunk %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} gate %{{.*}} init %{{.*}} chunk_size = 64 headdim = 64 ngroups = 8 :
  // CHECK-SAME: -> (tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>)
  %y, %s = ssm.ssd_chunk %x, %dt, %A, %B, %C gate %z init %s0 chunk_size = 64 headdim = 64 ngroups = 8
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>,
         tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>)
      -> (tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return %y, %s : tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>
}

//===----------------------------------------------------------------------===//
// ssm.rms_norm_gated
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @rms_norm_gated
func.func @rms_norm_gated(%y: tensor<?x?x5120xbf16>, %z: tensor<?x?x5120xbf16>, %w: tensor<5120xf32>) -> tensor<?x?x5120xbf16> {
  // CHECK: ssm.rms_norm_gated %{{.*}} gate %{{.*}} weight %{{.*}} group_size = 1024 eps = 1.000000e-05 :
  // CHECK-SAME: (tensor<?x?x5120xbf16>, tensor<?x?x5120xbf16>, tensor<5120xf32>) -> tensor<?x?x5120xbf16>
  %o = ssm.rms_norm_gated %y gate %z weight %w group_size = 1024 eps = 1.0e-05
      : (tensor<?x?x5120xbf16>, tensor<?x?x5120xbf16>, tensor<5120xf32>) -> tensor<?x?x5120xbf16>
  return %o : tensor<?x?x5120xbf16>
}

// CHECK-LABEL: func.func @rms_norm_gated_norm_before_gate
func.func @rms_norm_gated_norm_before_gate(%y: tensor<?x?x5120xbf16>, %z: tensor<?x?x5120xbf16>, %w: tensor<5120xbf16>) -> tensor<?x?x5120xbf16> {
  // CHECK: ssm.rms_norm_gated %{{.*}} gate %{{.*}} weight %{{.*}} group_size = 5120 eps = 1.000000e-08 norm_before_gate :
  %o = ssm.rms_norm_gated %y gate %z weight %w group_size = 5120 eps = 1.0e-08 norm_before_gate
      : (tensor<?x?x5120xbf16>, tensor<?x?x5120xbf16>, tensor<5120xbf16>) -> tensor<?x?x5120xbf16>
  return %o : tensor<?x?x5120xbf16>
}

// Without a gate: a plain RMSNorm, here of a static rank-1 tensor.
// CHECK-LABEL: func.func @rms_norm_no_gate
func.func @rms_norm_no_gate(%y: tensor<256xf32>, %w: tensor<256xf32>) -> tensor<256xf32> {
  // CHECK: ssm.rms_norm_gated %{{.*}} weight %{{.*}} group_size = 256 eps = 1.000000e-05 :
  // CHECK-SAME: (tensor<256xf32>, tensor<256xf32>) -> tensor<256xf32>
  %o = ssm.rms_norm_gated %y weight %w group_size = 256 eps = 1.0e-05
      : (tensor<256xf32>, tensor<256xf32>) -> tensor<256xf32>
  return %o : tensor<256xf32>
}

//===----------------------------------------------------------------------===//
// ssm.causal_conv1d
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @causal_conv1d_minimal_channel_last
func.func @causal_conv1d_minimal_channel_last(%x: tensor<?x?x5376xbf16>, %w: tensor<5376x4xf32>) -> tensor<?x?x5376xbf16> {
  // CHECK: ssm.causal_conv1d %{{.*}} weight %{{.*}} activation = none layout = channel_last :
  // CHECK-SAME: (tensor<?x?x5376xbf16>, tensor<5376x4xf32>) -> tensor<?x?x5376xbf16>
  %o = ssm.causal_conv1d %x weight %w activation = none layout = channel_last
      : (tensor<?x?x5376xbf16>, tensor<5376x4xf32>) -> tensor<?x?x5376xbf16>
  return %o : tensor<?x?x5376xbf16>
}

// CHECK-LABEL: func.func @causal_conv1d_all_options_channel_first
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x1536x?xf16>, %[[W:[^:]+]]: tensor<1536x3xf16>, %[[B:[^:]+]]: tensor<1536xf32>, %[[S0:[^:]+]]: tensor<2x1536x2xf32>
func.func @causal_conv1d_all_options_channel_first(%x: tensor<2x1536x?xf16>, %w: tensor<1536x3xf16>, %b: tensor<1536xf32>, %s0: tensor<2x1536x2xf32>) -> (tensor<2x1536x?xf16>, tensor<2x1536x2xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.causal_conv1d %[[X]] weight %[[W]] bias %[[B]] init %[[S0]] activation = silu layout = channel_first :
  // CHECK-SAME: (tensor<2x1536x?xf16>, tensor<1536x3xf16>, tensor<1536xf32>, tensor<2x1536x2xf32>) -> (tensor<2x1536x?xf16>, tensor<2x1536x2xf32>)
  %o, %s = ssm.causal_conv1d %x weight %w bias %b init %s0 activation = silu layout = channel_first
      : (tensor<2x1536x?xf16>, tensor<1536x3xf16>, tensor<1536xf32>, tensor<2x1536x2xf32>)
      -> (tensor<2x1536x?xf16>, tensor<2x1536x2xf32>)
  return %o, %s : tensor<2x1536x?xf16>, tensor<2x1536x2xf32>
}

// The bias alone (no init), with the final state.
// CHECK-LABEL: func.func @causal_conv1d_bias_final_state
func.func @causal_conv1d_bias_final_state(%x: tensor<?x?x256xf32>, %w: tensor<256x2xf32>, %b: tensor<256xf32>) -> (tensor<?x?x256xf32>, tensor<?x256x1xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.causal_conv1d %{{.*}} weight %{{.*}} bias %{{.*}} activation = silu layout = channel_last :
  // CHECK-SAME: (tensor<?x?x256xf32>, tensor<256x2xf32>, tensor<256xf32>) -> (tensor<?x?x256xf32>, tensor<?x256x1xf32>)
  %o, %s = ssm.causal_conv1d %x weight %w bias %b activation = silu layout = channel_last
      : (tensor<?x?x256xf32>, tensor<256x2xf32>, tensor<256xf32>) -> (tensor<?x?x256xf32>, tensor<?x256x1xf32>)
  return %o, %s : tensor<?x?x256xf32>, tensor<?x256x1xf32>
}

//===----------------------------------------------------------------------===//
// ssm.scan_step
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @scan_step_mamba1
func.func @scan_step_mamba1(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %dt: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>, %C: tensor<?x1x16xbf16>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.scan_step %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
  // CHECK-SAME: (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %C
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>)
      -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return %y, %s1 : tensor<?x512xbf16>, tensor<?x512x16xf32>
}

// CHECK-LABEL: func.func @scan_step_mamba1_all_options
// CHECK-SAME: %[[D:[^:]+]]: tensor<512xf32>, %[[Z:[^:]+]]: tensor<4x512xf16>, %[[DB:[^:]+]]: tensor<512xf32>)
func.func @scan_step_mamba1_all_options(%s0: tensor<4x512x16xf32>, %x: tensor<4x512xf16>, %dt: tensor<4x512xf16>, %A: tensor<512x16xf32>, %B: tensor<4x4x16xf16>, %C: tensor<4x4x16xf16>, %D: tensor<512xf32>, %z: tensor<4x512xf16>, %db: tensor<512xf32>) -> (tensor<4x512xf16>, tensor<4x512x16xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.scan_step %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} skip %[[D]] gate %[[Z]] bias %[[DB]] softplus :
  // CHECK-SAME: -> (tensor<4x512xf16>, tensor<4x512x16xf32>)
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %C skip %D gate %z bias %db softplus
      : (tensor<4x512x16xf32>, tensor<4x512xf16>, tensor<4x512xf16>, tensor<512x16xf32>, tensor<4x4x16xf16>, tensor<4x4x16xf16>,
         tensor<512xf32>, tensor<4x512xf16>, tensor<512xf32>)
      -> (tensor<4x512xf16>, tensor<4x512x16xf32>)
  return %y, %s1 : tensor<4x512xf16>, tensor<4x512x16xf32>
}

// CHECK-LABEL: func.func @scan_step_mamba2
func.func @scan_step_mamba2(%s0: tensor<?x80x64x128xf32>, %x: tensor<?x80x64xbf16>, %dt: tensor<?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x1x128xbf16>, %C: tensor<?x1x128xbf16>) -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.scan_step %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
  // CHECK-SAME: (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>, tensor<80xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>) -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %C
      : (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>, tensor<80xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>)
      -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return %y, %s1 : tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>
}

// CHECK-LABEL: func.func @scan_step_mamba2_all_options
// CHECK-SAME: %[[D:[^:]+]]: tensor<80xf32>, %[[Z:[^:]+]]: tensor<?x80x64xbf16>, %[[DB:[^:]+]]: tensor<80xf32>)
func.func @scan_step_mamba2_all_options(%s0: tensor<?x80x64x128xf32>, %x: tensor<?x80x64xbf16>, %dt: tensor<?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x8x128xbf16>, %C: tensor<?x8x128xbf16>, %D: tensor<80xf32>, %z: tensor<?x80x64xbf16>, %db: tensor<80xf32>) -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.scan_step %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} skip %[[D]] gate %[[Z]] bias %[[DB]] softplus :
  // CHECK-SAME: -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %C skip %D gate %z bias %db softplus
      : (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>, tensor<80xf32>, tensor<?x8x128xbf16>, tensor<?x8x128xbf16>,
         tensor<80xf32>, tensor<?x80x64xbf16>, tensor<80xf32>)
      -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return %y, %s1 : tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>
}

// The gate alone (no skip or bias), without softplus.
// CHECK-LABEL: func.func @scan_step_mamba2_gate_only
// CHECK-SAME: %[[Z:[^:]+]]: tensor<?x80x64xbf16>)
func.func @scan_step_mamba2_gate_only(%s0: tensor<?x80x64x128xf32>, %x: tensor<?x80x64xbf16>, %dt: tensor<?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x1x128xbf16>, %C: tensor<?x1x128xbf16>, %z: tensor<?x80x64xbf16>) -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = ssm.scan_step %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} gate %[[Z]] :
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %C gate %z
      : (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>, tensor<80xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<?x80x64xbf16>)
      -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return %y, %s1 : tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>
}

// The host-side split length that convert-ssm-to-gpu leaves to the runtime.
// CHECK-LABEL: func.func @split_length
// CHECK-SAME: %[[L:[^:]+]]: index
// CHECK: %[[S:.*]] = ssm.split_length %[[L]] quantum 32{{$}}
// CHECK: arith.ceildivui %[[L]], %[[S]]
// CHECK: ssm.split_length %[[L]] quantum 32 min 1024{{$}}
// CHECK: ssm.split_length %[[L]] quantum 32 waves 2{{$}}
// CHECK: ssm.split_length %[[L]] quantum 32 min 1024 fill 2{{$}}
func.func @split_length(%len: index) -> (index, index, index, index) {
  %s = ssm.split_length %len quantum 32
  %segments = arith.ceildivui %len, %s : index
  %long = ssm.split_length %len quantum 32 min 1024
  %fewer = ssm.split_length %len quantum 32 waves 2
  %units = ssm.split_length %len quantum 32 min 1024 fill 2
  return %segments, %long, %fewer, %units : index, index, index, index
}

// The host-side block count of a persistent kernel, left to the runtime.
// CHECK-LABEL: func.func @worker_count
// CHECK-SAME: %[[B:[^:]+]]: index, %[[L:[^:]+]]: index
// CHECK: %[[S:.*]] = arith.ceildivui %[[L]]
// CHECK: ssm.worker_count(%{{.*}}, %[[S]], %[[B]]) per_sm 2
func.func @worker_count(%batch: index, %len: index) -> index {
  %c80 = arith.constant 80 : index
  %c32 = arith.constant 32 : index
  %segments = arith.ceildivui %len, %c32 : index
  %w = ssm.worker_count (%c80, %segments, %batch) per_sm 2
  return %w : index
}

// A bidirectional scan: both directions' 2D channels in, D channels out.
// CHECK-LABEL: func.func @bidirectional
// CHECK: ssm.scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} bidirectional layout = channel_first
// CHECK: ssm.skip %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first : (tensor<?x128x?xbf16>, tensor<?x256x?xbf16>, tensor<256xf32>) -> tensor<?x128x?xbf16>
// CHECK: ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} skip %{{.*}} bidirectional layout = channel_first
func.func @bidirectional(%abar: tensor<?x256x?x16xf32>, %u: tensor<?x256x?xbf16>, %A: tensor<256x16xf32>, %C: tensor<?x2x16x?xbf16>, %D: tensor<256xf32>) -> (tensor<?x128x?xbf16>, tensor<?x128x?xbf16>) {
  %y = ssm.scan %abar, %abar, %u, %C bidirectional layout = channel_first
      : (tensor<?x256x?x16xf32>, tensor<?x256x?x16xf32>, tensor<?x256x?xbf16>, tensor<?x2x16x?xbf16>) -> tensor<?x128x?xbf16>
  %s = ssm.skip %y, %u, %D layout = channel_first
      : (tensor<?x128x?xbf16>, tensor<?x256x?xbf16>, tensor<256xf32>) -> tensor<?x128x?xbf16>
  %f = ssm.selective_scan %u, %u, %A, %C, %C skip %D bidirectional layout = channel_first
      : (tensor<?x256x?xbf16>, tensor<?x256x?xbf16>, tensor<256x16xf32>, tensor<?x2x16x?xbf16>, tensor<?x2x16x?xbf16>, tensor<256xf32>) -> tensor<?x128x?xbf16>
  return %s, %f : tensor<?x128x?xbf16>, tensor<?x128x?xbf16>
}

// VMamba's SS2D cross scan: four directions over a 7 x 9 grid (L = 63);
// u, z and y have D channels, the rest stack the four directions'.
// CHECK-LABEL: func @cross_scan
// CHECK: ssm.scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} cross_scan [7, 9] layout = channel_last
// CHECK: ssm.skip %{{.*}}, %{{.*}}, %{{.*}} layout = channel_last : (tensor<?x63x32xbf16>, tensor<?x63x32xbf16>, tensor<128xf32>)
// CHECK: ssm.selective_scan %{{.*}} skip %{{.*}} gate %{{.*}} softplus cross_scan [7, 9] layout = channel_last
func.func @cross_scan(%abar: tensor<?x63x128x16xf32>, %u: tensor<?x63x32xbf16>,
                      %C: tensor<?x63x4x16xbf16>, %delta: tensor<?x63x128xbf16>,
                      %A: tensor<128x16xf32>, %D: tensor<128xf32>) {
  %y = ssm.scan %abar, %abar, %u, %C cross_scan [7, 9] layout = channel_last
      : (tensor<?x63x128x16xf32>, tensor<?x63x128x16xf32>, tensor<?x63x32xbf16>, tensor<?x63x4x16xbf16>) -> tensor<?x63x32xbf16>
  %s = ssm.skip %y, %u, %D layout = channel_last
      : (tensor<?x63x32xbf16>, tensor<?x63x32xbf16>, tensor<128xf32>) -> tensor<?x63x32xbf16>
  %f, %h = ssm.selective_scan %u, %delta, %A, %C, %C skip %D gate %u softplus cross_scan [7, 9] layout = channel_last
      : (tensor<?x63x32xbf16>, tensor<?x63x128xbf16>, tensor<128x16xf32>, tensor<?x63x4x16xbf16>, tensor<?x63x4x16xbf16>, tensor<128xf32>, tensor<?x63x32xbf16>) -> (tensor<?x63x32xbf16>, tensor<?x128x16xf32>)
  return
}
