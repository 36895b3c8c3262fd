// RUN: ssm-opt %s -split-input-file -ssm-fuse-gating | FileCheck %s

// ssm.skip and ssm.gate on the sole use of a selective scan's output fold
// into the scan's `skip` and `gate` operands.

// CHECK-LABEL: func.func @fuse_skip
// CHECK-SAME: (%[[U:[^:]+]]: tensor<?x512x?xbf16>, %[[DELTA:[^:]+]]: tensor<?x512x?xbf16>, %[[A:[^:]+]]: tensor<512x16xf32>, %[[B:[^:]+]]: tensor<?x16x?xbf16>, %[[D:[^:]+]]: tensor<512xf32>)
func.func @fuse_skip(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %D: tensor<512xf32>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[Y:.*]] = ssm.selective_scan %[[U]], %[[DELTA]], %[[A]], %[[B]], %[[B]] skip %[[D]] layout = channel_first :
  // CHECK-NOT: ssm.skip
  // CHECK: return %[[Y]]
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %r = ssm.skip %y, %u, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return %r : tensor<?x512x?xbf16>
}

// -----

// CHECK-LABEL: func.func @fuse_gate
// CHECK-SAME: %[[Z:[^:]+]]: tensor<?x512x?xbf16>)
func.func @fuse_gate(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %z: tensor<?x512x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[Y:.*]] = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} gate %[[Z]] layout = channel_first :
  // CHECK-NOT: ssm.gate
  // CHECK: return %[[Y]]
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %o = ssm.gate %y, %z : tensor<?x512x?xbf16>
  return %o : tensor<?x512x?xbf16>
}

// -----

// The Mamba epilogue: skip, then gate, both folded.
// CHECK-LABEL: func.func @fuse_skip_then_gate
// CHECK-SAME: %[[D:[^:]+]]: tensor<512xf32>, %[[Z:[^:]+]]: tensor<?x512x?xbf16>)
func.func @fuse_skip_then_gate(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %D: tensor<512xf32>, %z: tensor<?x512x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[Y:.*]] = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} skip %[[D]] gate %[[Z]] layout = channel_first :
  // CHECK-NOT: ssm.skip
  // CHECK-NOT: ssm.gate
  // CHECK: return %[[Y]]
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %r = ssm.skip %y, %u, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  %o = ssm.gate %r, %z : tensor<?x512x?xbf16>
  return %o : tensor<?x512x?xbf16>
}

// -----

// The scan keeps its other operands, attributes and its last state.
// CHECK-LABEL: func.func @fuse_keeps_scan_options
// CHECK-SAME: %[[DB:[^:]+]]: tensor<768xf32>, %[[H0:[^:]+]]: tensor<4x768x16xf32>, %[[D:[^:]+]]: tensor<768xf32>, %[[Z:[^:]+]]: tensor<4x1024x768xf16>)
func.func @fuse_keeps_scan_options(%u: tensor<4x1024x768xf16>, %delta: tensor<4x1024x768xf16>, %A: tensor<768x16xf32>, %B: tensor<4x1024x3x16xf32>, %db: tensor<768xf32>, %h0: tensor<4x768x16xf32>, %D: tensor<768xf32>, %z: tensor<4x1024x768xf16>) -> (tensor<4x1024x768xf16>, tensor<4x768x16xf32>) {
  // CHECK: %[[Y:.*]], %[[H:.*]] = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} skip %[[D]] gate %[[Z]] bias %[[DB]] init %[[H0]] softplus reverse layout = channel_last tile = <threads = 64, items = 16> :
  // CHECK: return %[[Y]], %[[H]]
  %y, %h = ssm.selective_scan %u, %delta, %A, %B, %B bias %db init %h0 softplus reverse layout = channel_last
      tile = <threads = 64, items = 16>
      : (tensor<4x1024x768xf16>, tensor<4x1024x768xf16>, tensor<768x16xf32>, tensor<4x1024x3x16xf32>, tensor<4x1024x3x16xf32>,
         tensor<768xf32>, tensor<4x768x16xf32>) -> (tensor<4x1024x768xf16>, tensor<4x768x16xf32>)
  %r = ssm.skip %y, %u, %D layout = channel_last
      : (tensor<4x1024x768xf16>, tensor<4x1024x768xf16>, tensor<768xf32>) -> tensor<4x1024x768xf16>
  %o = ssm.gate %r, %z : tensor<4x1024x768xf16>
  return %o, %h : tensor<4x1024x768xf16>, tensor<4x768x16xf32>
}

// -----

// y has a second use: the ungated output must still be written.
// CHECK-LABEL: func.func @no_fuse_y_second_use
func.func @no_fuse_y_second_use(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %D: tensor<512xf32>) -> (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>) {
  // CHECK: %[[Y:.*]] = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first :
  // CHECK: %[[R:.*]] = ssm.skip %[[Y]]
  // CHECK: return %[[R]], %[[Y]]
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %r = ssm.skip %y, %u, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return %r, %y : tensor<?x512x?xbf16>, tensor<?x512x?xbf16>
}

// -----

// The skip adds D·v for a v other than the scan's input u.
// CHECK-LABEL: func.func @no_fuse_skip_different_u
// CHECK-SAME: %[[V:[^:]+]]: tensor<?x512x?xbf16>)
func.func @no_fuse_skip_different_u(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %D: tensor<512xf32>, %v: tensor<?x512x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[Y:.*]] = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first :
  // CHECK: ssm.skip %[[Y]], %[[V]]
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %r = ssm.skip %y, %v, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return %r : tensor<?x512x?xbf16>
}

// -----

// The scan already has a skip; a second one is not merged into it.
// CHECK-LABEL: func.func @no_fuse_skip_already_skipped
func.func @no_fuse_skip_already_skipped(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %D: tensor<512xf32>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[Y:.*]] = ssm.selective_scan {{.*}} skip
  // CHECK: ssm.skip %[[Y]]
  %y = ssm.selective_scan %u, %delta, %A, %B, %B skip %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  %r = ssm.skip %y, %u, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return %r : tensor<?x512x?xbf16>
}

// -----

// A skip after the gate is not the scan's skip (which comes before the gate):
// the gate is folded, the skip stays.
// CHECK-LABEL: func.func @no_fuse_skip_after_gate
// CHECK-SAME: %[[Z:[^:]+]]: tensor<?x512x?xbf16>)
func.func @no_fuse_skip_after_gate(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %D: tensor<512xf32>, %z: tensor<?x512x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[Y:.*]] = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} gate %[[Z]] layout = channel_first :
  // CHECK-NOT: ssm.gate
  // CHECK: ssm.skip %[[Y]]
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %o = ssm.gate %y, %z : tensor<?x512x?xbf16>
  %r = ssm.skip %o, %u, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return %r : tensor<?x512x?xbf16>
}

// -----

// The scan is already gated.
// CHECK-LABEL: func.func @no_fuse_gate_already_gated
// CHECK-SAME: %[[Z0:[^:]+]]: tensor<?x512x?xbf16>, %[[Z1:[^:]+]]: tensor<?x512x?xbf16>)
func.func @no_fuse_gate_already_gated(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %z0: tensor<?x512x?xbf16>, %z1: tensor<?x512x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[Y:.*]] = ssm.selective_scan {{.*}} gate %[[Z0]] layout
  // CHECK: ssm.gate %[[Y]], %[[Z1]]
  %y = ssm.selective_scan %u, %delta, %A, %B, %B gate %z0 layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>, tensor<?x512x?xbf16>) -> tensor<?x512x?xbf16>
  %o = ssm.gate %y, %z1 : tensor<?x512x?xbf16>
  return %o : tensor<?x512x?xbf16>
}

// -----

// z is computed after the scan, so the scan cannot take it as an operand.
// CHECK-LABEL: func.func @no_fuse_z_defined_after_scan
func.func @no_fuse_z_defined_after_scan(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %w: tensor<?x512x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[Y:.*]] = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first :
  // CHECK: %[[Z:.*]] = arith.negf
  // CHECK: ssm.gate %[[Y]], %[[Z]]
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %z = arith.negf %w : tensor<?x512x?xbf16>
  %o = ssm.gate %y, %z : tensor<?x512x?xbf16>
  return %o : tensor<?x512x?xbf16>
}

// -----

// Likewise for a skip vector D computed after the scan.
// CHECK-LABEL: func.func @no_fuse_D_defined_after_scan
func.func @no_fuse_D_defined_after_scan(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %d: tensor<512xf32>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[Y:.*]] = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first :
  // CHECK: %[[D:.*]] = arith.negf
  // CHECK: ssm.skip %[[Y]], %{{.*}}, %[[D]]
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %D = arith.negf %d : tensor<512xf32>
  %r = ssm.skip %y, %u, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return %r : tensor<?x512x?xbf16>
}

// -----

// Only ssm.selective_scan takes epilogues; the unfused ssm.scan does not.
// CHECK-LABEL: func.func @no_fuse_into_unfused_scan
func.func @no_fuse_into_unfused_scan(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>, %z: tensor<?x512x?xbf16>) -> tensor<?x512x?xbf16> {
  // CHECK: %[[Y:.*]] = ssm.scan
  // CHECK: ssm.gate %[[Y]]
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %o = ssm.gate %y, %z : tensor<?x512x?xbf16>
  return %o : tensor<?x512x?xbf16>
}

// -----

// A bidirectional scan takes the skip over both directions' u and the gate
// of its summed output.
// CHECK-LABEL: func.func @fuse_bidirectional
// CHECK: %[[Y:.*]] = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} skip %{{.*}} gate %{{.*}} bidirectional layout = channel_first
// CHECK-NOT: ssm.skip
// CHECK-NOT: ssm.gate
// CHECK: return %[[Y]]
func.func @fuse_bidirectional(%u: tensor<?x256x?xbf16>, %A: tensor<256x16xf32>, %B: tensor<?x2x16x?xbf16>, %D: tensor<256xf32>, %z: tensor<?x128x?xbf16>) -> tensor<?x128x?xbf16> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B bidirectional layout = channel_first
      : (tensor<?x256x?xbf16>, tensor<?x256x?xbf16>, tensor<256x16xf32>, tensor<?x2x16x?xbf16>, tensor<?x2x16x?xbf16>) -> tensor<?x128x?xbf16>
  %s = ssm.skip %y, %u, %D layout = channel_first
      : (tensor<?x128x?xbf16>, tensor<?x256x?xbf16>, tensor<256xf32>) -> tensor<?x128x?xbf16>
  %g = ssm.gate %s, %z : tensor<?x128x?xbf16>
  return %g : tensor<?x128x?xbf16>
}

// -----

// A skip may take a multiple of y's channels from u, where a cross scan's
// directions share u; a scan of one direction keeps a D of three times its
// channels as a separate skip.
// CHECK-LABEL: func.func @no_fuse_skip_D_not_the_scans_channels
// CHECK: %[[Y:.*]] = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first :
// CHECK: ssm.skip %[[Y]]
func.func @no_fuse_skip_D_not_the_scans_channels(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %D: tensor<1536xf32>) -> tensor<?x512x?xbf16> {
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %r = ssm.skip %y, %u, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<1536xf32>) -> tensor<?x512x?xbf16>
  return %r : tensor<?x512x?xbf16>
}

// -----

// z defined outside the region that holds the scan dominates it.
// CHECK-LABEL: func.func @fuse_gate_z_from_enclosing_region
// CHECK: scf.execute_region
// CHECK: %[[Y:.*]] = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} gate %{{.*}} layout = channel_first :
// CHECK-NOT: ssm.gate
// CHECK: scf.yield %[[Y]]
func.func @fuse_gate_z_from_enclosing_region(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %w: tensor<?x512x?xbf16>) -> tensor<?x512x?xbf16> {
  %z = arith.negf %w : tensor<?x512x?xbf16>
  %r = scf.execute_region -> tensor<?x512x?xbf16> {
    %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
        : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
    %g = ssm.gate %y, %z : tensor<?x512x?xbf16>
    scf.yield %g : tensor<?x512x?xbf16>
  }
  return %r : tensor<?x512x?xbf16>
}
