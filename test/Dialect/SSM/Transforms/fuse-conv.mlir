// RUN: ssm-opt %s -split-input-file -ssm-fuse-conv | FileCheck %s

// A causal conv1d whose output is a selective scan's only input u folds into
// the scan: the scan reads the conv's input and carries its weights, bias
// and activation.

// CHECK-LABEL: func.func @fuse_conv
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x512x?xbf16>, %[[W:[^:]+]]: tensor<512x4xf32>, %[[CB:[^:]+]]: tensor<512xf32>, %[[DELTA:[^:]+]]: tensor<?x512x?xbf16>, %[[A:[^:]+]]: tensor<512x16xf32>, %[[B:[^:]+]]: tensor<?x1x16x?xbf16>, %[[D:[^:]+]]: tensor<512xf32>)
func.func @fuse_conv(%x: tensor<?x512x?xbf16>, %w: tensor<512x4xf32>, %cb: tensor<512xf32>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16x?xbf16>, %D: tensor<512xf32>) -> tensor<?x512x?xbf16> {
  // CHECK-NOT: ssm.causal_conv1d
  // CHECK: %[[Y:.*]] = ssm.selective_scan %[[X]], %[[DELTA]], %[[A]], %[[B]], %[[B]] skip %[[D]] conv %[[W]] conv_bias %[[CB]] conv_silu softplus layout = channel_first :
  // CHECK: return %[[Y]]
  %u = ssm.causal_conv1d %x weight %w bias %cb activation = silu layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<512x4xf32>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  %y = ssm.selective_scan %u, %delta, %A, %B, %B skip %D softplus layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x1x16x?xbf16>, tensor<?x1x16x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// -----

// Without bias or activation: neither appears on the scan.
// CHECK-LABEL: func.func @fuse_plain_conv
// CHECK: ssm.selective_scan %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} conv %{{[^ ]+}} layout = channel_first :
// CHECK-SAME: tensor<64x2xf32>
func.func @fuse_plain_conv(%x: tensor<?x64x?xf32>, %w: tensor<64x2xf32>, %delta: tensor<?x64x?xf32>, %A: tensor<64x8xf32>, %B: tensor<?x8x?xf32>) -> tensor<?x64x?xf32> {
  %u = ssm.causal_conv1d %x weight %w activation = none layout = channel_first
      : (tensor<?x64x?xf32>, tensor<64x2xf32>) -> tensor<?x64x?xf32>
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64x8xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>) -> tensor<?x64x?xf32>
  return %y : tensor<?x64x?xf32>
}

// -----

// The conv's output has another user (a skip that ssm-fuse-gating has not
// folded): the conv stays.
// CHECK-LABEL: func.func @conv_with_other_user
// CHECK: %[[U:.*]] = ssm.causal_conv1d
// CHECK: ssm.selective_scan %[[U]],
// CHECK: ssm.skip %{{.*}}, %[[U]],
func.func @conv_with_other_user(%x: tensor<?x64x?xf32>, %w: tensor<64x4xf32>, %delta: tensor<?x64x?xf32>, %A: tensor<64x8xf32>, %B: tensor<?x8x?xf32>, %D: tensor<64xf32>) -> tensor<?x64x?xf32> {
  %u = ssm.causal_conv1d %x weight %w activation = silu layout = channel_first
      : (tensor<?x64x?xf32>, tensor<64x4xf32>) -> tensor<?x64x?xf32>
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64x8xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>) -> tensor<?x64x?xf32>
  %r = ssm.skip %y, %u, %D layout = channel_first
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64xf32>) -> tensor<?x64x?xf32>
  return %r : tensor<?x64x?xf32>
}

// -----

// A conv with a final state (a prefill before decoding) stays: the scan
// does not write conv states.
// CHECK-LABEL: func.func @conv_with_state
// CHECK: ssm.causal_conv1d
// CHECK: ssm.selective_scan %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} layout
func.func @conv_with_state(%x: tensor<?x64x?xf32>, %w: tensor<64x4xf32>, %delta: tensor<?x64x?xf32>, %A: tensor<64x8xf32>, %B: tensor<?x8x?xf32>) -> (tensor<?x64x?xf32>, tensor<?x64x3xf32>) {
  %u, %s = ssm.causal_conv1d %x weight %w activation = silu layout = channel_first
      : (tensor<?x64x?xf32>, tensor<64x4xf32>) -> (tensor<?x64x?xf32>, tensor<?x64x3xf32>)
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64x8xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>) -> tensor<?x64x?xf32>
  return %y, %s : tensor<?x64x?xf32>, tensor<?x64x3xf32>
}

// -----

// A reverse scan reads the conv's output backward: no fold.
// CHECK-LABEL: func.func @reverse_scan
// CHECK: %[[U:.*]] = ssm.causal_conv1d
// CHECK: ssm.selective_scan %[[U]], %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} reverse layout
func.func @reverse_scan(%x: tensor<?x64x?xf32>, %w: tensor<64x4xf32>, %delta: tensor<?x64x?xf32>, %A: tensor<64x8xf32>, %B: tensor<?x8x?xf32>) -> tensor<?x64x?xf32> {
  %u = ssm.causal_conv1d %x weight %w activation = silu layout = channel_first
      : (tensor<?x64x?xf32>, tensor<64x4xf32>) -> tensor<?x64x?xf32>
  %y = ssm.selective_scan %u, %delta, %A, %B, %B reverse layout = channel_first
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64x8xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>) -> tensor<?x64x?xf32>
  return %y : tensor<?x64x?xf32>
}

// -----

// Channel-last: no fold.
// CHECK-LABEL: func.func @channel_last
// CHECK: %[[U:.*]] = ssm.causal_conv1d
// CHECK: ssm.selective_scan %[[U]], %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} layout
func.func @channel_last(%x: tensor<?x?x64xf32>, %w: tensor<64x4xf32>, %delta: tensor<?x?x64xf32>, %A: tensor<64x8xf32>, %B: tensor<?x?x8xf32>) -> tensor<?x?x64xf32> {
  %u = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<?x?x64xf32>, tensor<64x4xf32>) -> tensor<?x?x64xf32>
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_last
      : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<64x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// The folded conv reads f32 weights: bf16 ones stay in their own op.
// CHECK-LABEL: func.func @bf16_weights
// CHECK: %[[U:.*]] = ssm.causal_conv1d
// CHECK: ssm.selective_scan %[[U]], %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} layout
func.func @bf16_weights(%x: tensor<?x64x?xbf16>, %w: tensor<64x4xbf16>, %delta: tensor<?x64x?xbf16>, %A: tensor<64x8xf32>, %B: tensor<?x8x?xbf16>) -> tensor<?x64x?xbf16> {
  %u = ssm.causal_conv1d %x weight %w activation = silu layout = channel_first
      : (tensor<?x64x?xbf16>, tensor<64x4xbf16>) -> tensor<?x64x?xbf16>
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x64x?xbf16>, tensor<?x64x?xbf16>, tensor<64x8xf32>, tensor<?x8x?xbf16>, tensor<?x8x?xbf16>) -> tensor<?x64x?xbf16>
  return %y : tensor<?x64x?xbf16>
}

// -----

// A bidirectional scan reads u both ways: no fold.
// CHECK-LABEL: func.func @bidirectional_scan
// CHECK: %[[U:.*]] = ssm.causal_conv1d
// CHECK: ssm.selective_scan %[[U]], %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} bidirectional layout
func.func @bidirectional_scan(%x: tensor<?x128x?xf32>, %w: tensor<128x4xf32>, %delta: tensor<?x128x?xf32>, %A: tensor<128x8xf32>, %B: tensor<?x2x8x?xf32>) -> tensor<?x64x?xf32> {
  %u = ssm.causal_conv1d %x weight %w activation = silu layout = channel_first
      : (tensor<?x128x?xf32>, tensor<128x4xf32>) -> tensor<?x128x?xf32>
  %y = ssm.selective_scan %u, %delta, %A, %B, %B bidirectional layout = channel_first
      : (tensor<?x128x?xf32>, tensor<?x128x?xf32>, tensor<128x8xf32>, tensor<?x2x8x?xf32>, tensor<?x2x8x?xf32>) -> tensor<?x64x?xf32>
  return %y : tensor<?x64x?xf32>
}

// -----

// A scan that already folds a conv takes no second one.
// CHECK-LABEL: func.func @scan_has_a_conv
// CHECK: %[[U:.*]] = ssm.causal_conv1d
// CHECK: ssm.selective_scan %[[U]], %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} conv
func.func @scan_has_a_conv(%x: tensor<?x64x?xf32>, %w: tensor<64x4xf32>, %delta: tensor<?x64x?xf32>, %A: tensor<64x8xf32>, %B: tensor<?x8x?xf32>) -> tensor<?x64x?xf32> {
  %u = ssm.causal_conv1d %x weight %w activation = silu layout = channel_first
      : (tensor<?x64x?xf32>, tensor<64x4xf32>) -> tensor<?x64x?xf32>
  %y = ssm.selective_scan %u, %delta, %A, %B, %B conv %w layout = channel_first
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64x8xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>, tensor<64x4xf32>) -> tensor<?x64x?xf32>
  return %y : tensor<?x64x?xf32>
}
