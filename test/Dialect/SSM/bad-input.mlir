// RUN: not ssm-opt %s -split-input-file 2>&1 | FileCheck %s

// Malformed ssm IR: each chunk gives an error located at file:line:col and
// ssm-opt exits with a non-zero status. The last chunk parses but fails the
// verifier, which also makes ssm-opt fail.

func.func @unknown_layout(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) {
  // CHECK: bad-input.mlir:[[@LINE+1]]:55: error: custom op 'ssm.selective_scan' expected ::mlir::ssm::Layout to be one of: channel_first, channel_last
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_middle
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @missing_layout(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) {
  %y = ssm.selective_scan %u, %u, %A, %B, %B
      // CHECK: bad-input.mlir:[[@LINE+1]]:7: error: custom op 'ssm.selective_scan' expected 'layout'
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @unknown_discretize_mode(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) {
  // CHECK: bad-input.mlir:[[@LINE+1]]:78: error: custom op 'ssm.discretize' expected ::mlir::ssm::DiscretizeMode to be one of: zoh_simplified, zoh_exact
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = foh
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @unknown_activation(%x: tensor<?x?x256xf32>, %w: tensor<256x4xf32>) {
  // CHECK: bad-input.mlir:[[@LINE+1]]:52: error: custom op 'ssm.causal_conv1d' expected ::mlir::ssm::Activation to be one of: none, silu
  %o = ssm.causal_conv1d %x weight %w activation = gelu layout = channel_last
      : (tensor<?x?x256xf32>, tensor<256x4xf32>) -> tensor<?x?x256xf32>
  return
}

// -----

func.func @tile_missing_items(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) {
  // CHECK: bad-input.mlir:[[@LINE+1]]:89: error: custom op 'ssm.selective_scan' struct is missing required parameter: items
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_unknown_parameter(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) {
  // CHECK: bad-input.mlir:[[@LINE+1]]:110: error: custom op 'ssm.selective_scan' duplicate or unknown struct parameter name: warps
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 8, warps = 2>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @operand_type_count_mismatch(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) {
  // CHECK: bad-input.mlir:[[@LINE+1]]:8: error: custom op 'ssm.selective_scan' number of operands and types do not match: got 5 operands and 4 types
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @unknown_op(%y: tensor<?x512x?xbf16>) {
  // CHECK: bad-input.mlir:[[@LINE+1]]:8: error: custom op 'ssm.silu' is unknown
  %o = ssm.silu %y : tensor<?x512x?xbf16>
  return
}

// -----

func.func @verifier_error(%u: tensor<?x512x?xbf16>, %A: tensor<256x16xf32>, %B: tensor<?x16x?xbf16>) {
  // CHECK: bad-input.mlir:[[@LINE+1]]:8: error: 'ssm.selective_scan' op operand 'A' must have shape [D, N] = [512, 16], got 'tensor<256x16xf32>'
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<256x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}
