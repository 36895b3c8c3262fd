// RUN: ssm-opt %s -split-input-file -convert-ssm-to-gpu -verify-diagnostics

func.func @no_tile(%u: tensor<?x64x?xf32>, %A: tensor<64x16xf32>,
                   %B: tensor<?x16x?xf32>) -> tensor<?x64x?xf32> {
  // expected-error @below {{has no #ssm.tile; run ssm-tile first}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64x16xf32>,
         tensor<?x16x?xf32>, tensor<?x16x?xf32>) -> tensor<?x64x?xf32>
  return %y : tensor<?x64x?xf32>
}

// -----

func.func @group_split(%u: tensor<?x128x?xf32>, %A: tensor<128x16xf32>,
                       %B: tensor<?x4x16x?xf32>) -> tensor<?x128x?xf32> {
  // expected-error @below {{tile threads / lanes = 64 must divide the 32 channels of each B/C group}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      tile = <threads = 64, items = 16>
      : (tensor<?x128x?xf32>, tensor<?x128x?xf32>, tensor<128x16xf32>,
         tensor<?x4x16x?xf32>, tensor<?x4x16x?xf32>) -> tensor<?x128x?xf32>
  return %y : tensor<?x128x?xf32>
}

// -----

// A thread keeps its states in registers: N / lanes of them, at most 64.
func.func @too_many_states(%u: tensor<?x64x?xbf16>, %A: tensor<64x256xf32>,
                           %B: tensor<?x256x?xbf16>) -> tensor<?x64x?xbf16> {
  // expected-error @below {{tile lanes = 2 leave 128 states a thread, more than the 64 it keeps in registers}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      tile = <threads = 64, items = 8, lanes = 2>
      : (tensor<?x64x?xbf16>, tensor<?x64x?xbf16>, tensor<64x256xf32>,
         tensor<?x256x?xbf16>, tensor<?x256x?xbf16>) -> tensor<?x64x?xbf16>
  return %y : tensor<?x64x?xbf16>
}

// -----

// B and C tiles of 64 steps and 64 states (two buffers, one more vector for
// shifted windows) exceed the static workgroup memory.
func.func @staged_tiles_too_large(%u: tensor<?x64x?xbf16>, %A: tensor<64x64xf32>,
                                  %B: tensor<?x64x?xbf16>) -> tensor<?x64x?xbf16> {
  // expected-error @below {{tile items = 64 stage B and C in 78336 bytes of workgroup memory, more than the 49152 available; use fewer items}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      tile = <threads = 64, items = 64>
      : (tensor<?x64x?xbf16>, tensor<?x64x?xbf16>, tensor<64x64xf32>,
         tensor<?x64x?xbf16>, tensor<?x64x?xbf16>) -> tensor<?x64x?xbf16>
  return %y : tensor<?x64x?xbf16>
}

// -----

// With two lanes a block of 64 threads owns 32 channels: the same groups fit
// (no diagnostic expected).
func.func @group_split_lanes(%u: tensor<?x128x?xf32>, %A: tensor<128x16xf32>,
                             %B: tensor<?x4x16x?xf32>) -> tensor<?x128x?xf32> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      tile = <threads = 64, items = 16, lanes = 2>
      : (tensor<?x128x?xf32>, tensor<?x128x?xf32>, tensor<128x16xf32>,
         tensor<?x4x16x?xf32>, tensor<?x4x16x?xf32>) -> tensor<?x128x?xf32>
  return %y : tensor<?x128x?xf32>
}

// -----

func.func @unfused(%delta: tensor<?x64x?xf32>, %A: tensor<64x16xf32>,
                   %B: tensor<?x16x?xf32>) -> tensor<?x64x?x16xf32> {
  // expected-error @below {{has no GPU lowering yet (run ssm-fuse-discretize and ssm-fuse-gating first)}}
  %a, %b = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x64x?xf32>, tensor<64x16xf32>, tensor<?x16x?xf32>)
      -> (tensor<?x64x?x16xf32>, tensor<?x64x?x16xf32>)
  return %a : tensor<?x64x?x16xf32>
}

// -----

func.func @not_ssm(%u: tensor<?x64x?xf32>, %A: tensor<64x16xf32>,
                   %B: tensor<?x16x?xf32>) -> tensor<?x64x?xf32> {
  // expected-error @below {{is not an ssm op; a layer function holds ssm ops and its return only}}
  %v = arith.negf %u : tensor<?x64x?xf32>
  %y = ssm.selective_scan %v, %u, %A, %B, %B layout = channel_first
      tile = <threads = 64, items = 16>
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64x16xf32>,
         tensor<?x16x?xf32>, tensor<?x16x?xf32>) -> tensor<?x64x?xf32>
  return %y : tensor<?x64x?xf32>
}

// -----

func.func @chained(%u: tensor<?x64x?xf32>, %A: tensor<64x16xf32>,
                   %B: tensor<?x16x?xf32>) -> tensor<?x64x?xf32> {
  // expected-error @below {{result feeds another op; only returned results are supported}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      tile = <threads = 64, items = 16>
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64x16xf32>,
         tensor<?x16x?xf32>, tensor<?x16x?xf32>) -> tensor<?x64x?xf32>
  %g = ssm.gate %y, %u : tensor<?x64x?xf32>
  return %g : tensor<?x64x?xf32>
}

// -----

func.func @state_not_an_argument(%s0: tensor<?x8x16xf32>, %x: tensor<?x8xf32>,
                                 %A: tensor<8x16xf32>, %B: tensor<?x1x16xf32>)
    -> (tensor<?x8xf32>, tensor<?x8x16xf32>) {
  // expected-error @below {{result feeds another op; only returned results are supported}}
  %y0, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x8x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<8x16xf32>,
         tensor<?x1x16xf32>, tensor<?x1x16xf32>) -> (tensor<?x8xf32>, tensor<?x8x16xf32>)
  %y, %s2 = ssm.scan_step %s1, %x, %x, %A, %B, %B
      : (tensor<?x8x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<8x16xf32>,
         tensor<?x1x16xf32>, tensor<?x1x16xf32>) -> (tensor<?x8xf32>, tensor<?x8x16xf32>)
  return %y, %s2 : tensor<?x8xf32>, tensor<?x8x16xf32>
}

// -----

// A decode step writes its new state over the old one: a second step from
// the same state would read the first one's output.
func.func @step_state_read_twice(%s0: tensor<?x8x16xf32>, %x: tensor<?x8xf32>,
                                 %A: tensor<8x16xf32>, %B: tensor<?x1x16xf32>)
    -> (tensor<?x8xf32>, tensor<?x8x16xf32>, tensor<?x8xf32>, tensor<?x8x16xf32>) {
  // expected-error @below {{updates argument 0 in place, which another op also reads}}
  %y1, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x8x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<8x16xf32>,
         tensor<?x1x16xf32>, tensor<?x1x16xf32>) -> (tensor<?x8xf32>, tensor<?x8x16xf32>)
  %y2, %s2 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x8x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<8x16xf32>,
         tensor<?x1x16xf32>, tensor<?x1x16xf32>) -> (tensor<?x8xf32>, tensor<?x8x16xf32>)
  return %y1, %s1, %y2, %s2 : tensor<?x8xf32>, tensor<?x8x16xf32>, tensor<?x8xf32>, tensor<?x8x16xf32>
}

// -----

// Only the channel-last kernel writes a channel's final state from the
// thread that read its initial state.
func.func @conv_in_place_channel_first(%x: tensor<?x64x?xbf16>,
                                       %w: tensor<64x4xf32>,
                                       %s: tensor<?x64x3xf32>)
    -> (tensor<?x64x?xbf16>, tensor<?x64x3xf32> {ssm.tied = 2 : i64}) {
  // expected-error @below {{can update its state in place only with layout = channel_last}}
  %y, %f = ssm.causal_conv1d %x weight %w init %s activation = silu
      layout = channel_first
      : (tensor<?x64x?xbf16>, tensor<64x4xf32>, tensor<?x64x3xf32>)
      -> (tensor<?x64x?xbf16>, tensor<?x64x3xf32>)
  return %y, %f : tensor<?x64x?xbf16>, tensor<?x64x3xf32>
}

// -----

// expected-error @below {{result 1 is tied to argument 0, which is not the initial state of the conv1d that computes it}}
func.func @conv_tied_to_x(%x: tensor<?x?x64xbf16>, %w: tensor<64x4xf32>,
                          %s: tensor<?x64x3xf32>)
    -> (tensor<?x?x64xbf16>, tensor<?x64x3xf32> {ssm.tied = 0 : i64}) {
  %y, %f = ssm.causal_conv1d %x weight %w init %s activation = silu
      layout = channel_last
      : (tensor<?x?x64xbf16>, tensor<64x4xf32>, tensor<?x64x3xf32>)
      -> (tensor<?x?x64xbf16>, tensor<?x64x3xf32>)
  return %y, %f : tensor<?x?x64xbf16>, tensor<?x64x3xf32>
}

// -----

func.func @index_argument(%u: tensor<?x64x?xf32>, %A: tensor<64x16xf32>,
                          // expected-error @below {{layer function argument 2 is 'index'; layer functions take ranked tensors only}}
                          %k: index,
                          %B: tensor<?x16x?xf32>) -> tensor<?x64x?xf32> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      tile = <threads = 64, items = 16>
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64x16xf32>,
         tensor<?x16x?xf32>, tensor<?x16x?xf32>) -> tensor<?x64x?xf32>
  return %y : tensor<?x64x?xf32>
}

// -----

// A decode step's new state has the buffer of its state argument only when
// returned (it was once written there without the argument turning in-out).
func.func @step_state_not_returned(%s0: tensor<?x8x16xf32>, %x: tensor<?x8xf32>,
                                   %A: tensor<8x16xf32>, %B: tensor<?x1x16xf32>)
    -> tensor<?x8xf32> {
  // expected-error @below {{result 1 is not returned; a layer function returns every result of its ssm ops}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x8x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<8x16xf32>,
         tensor<?x1x16xf32>, tensor<?x1x16xf32>) -> (tensor<?x8xf32>, tensor<?x8x16xf32>)
  return %y : tensor<?x8xf32>
}

// -----

func.func @conv_state_not_returned(%x: tensor<?x?x64xbf16>, %w: tensor<64x4xf32>)
    -> tensor<?x?x64xbf16> {
  // expected-error @below {{result 1 is not returned; a layer function returns every result of its ssm ops}}
  %y, %f = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<?x?x64xbf16>, tensor<64x4xf32>) -> (tensor<?x?x64xbf16>, tensor<?x64x3xf32>)
  return %y : tensor<?x?x64xbf16>
}
