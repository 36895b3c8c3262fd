// RUN: ssm-opt %s -split-input-file -ssm-tile -verify-diagnostics
// RUN: not ssm-opt %s -split-input-file -ssm-tile="chunk=64" 2>&1 | FileCheck %s --check-prefix=OPTIONS

// ssm-tile sets a tile only where the op's verifier would take it: a tile
// that does not apply to the op fails the pass at the op, naming where the
// tile came from, instead of leaving IR the verifier rejects.

func.func @layer_tile_lanes_on_ssd(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>, %A: tensor<8xf32>, %B: tensor<?x?x1x64xbf16>)
    -> tensor<?x?x8x64xbf16> attributes {ssm.tile = #ssm.tile<threads = 128, items = 64, lanes = 2>} {
  // expected-error @below {{the tile from the layer function does not apply: tile lanes = 2 applies to selective scans only}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>, tensor<?x?x1x64xbf16>, tensor<?x?x1x64xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

func.func @layer_tile_warpgroup_on_scan(%u: tensor<?x64x?xf32>, %A: tensor<64x16xf32>, %B: tensor<?x16x?xf32>) -> tensor<?x64x?xf32>
    attributes {ssm.tile = #ssm.tile<threads = 128, items = 64, steps = 32, stages = 3, warpgroup = true>} {
  // expected-error @below {{the tile from the layer function does not apply: tile warpgroup applies to ssm.ssd_chunk only}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x64x?xf32>, tensor<?x64x?xf32>, tensor<64x16xf32>, tensor<?x16x?xf32>, tensor<?x16x?xf32>) -> tensor<?x64x?xf32>
  return %y : tensor<?x64x?xf32>
}

// -----

// The heuristic's tile applies; a segment length from the options that is
// not made of whole chunks does not.
func.func @option_chunk_not_whole_chunks(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>, %A: tensor<8xf32>, %B: tensor<?x?x1x64xbf16>)
    -> tensor<?x?x8x64xbf16> {
  // OPTIONS: tile-not-applicable.mlir:[[@LINE+1]]:8: error: 'ssm.ssd_chunk' op the tile from the pass options and heuristic does not apply: tile chunk = 64 (the L segment length) must be a multiple of chunk_size = 128
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 128 headdim = 64 ngroups = 1
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>, tensor<?x?x1x64xbf16>, tensor<?x?x1x64xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

// Without a tile, 31 channels a group with 16 states a channel fit no
// block: the heuristic says so at the op.
func.func @heuristic_finds_no_tile(%u: tensor<?x31x?xf32>, %A: tensor<31x16xf32>, %B: tensor<?x16x?xf32>) -> tensor<?x31x?xf32> {
  // expected-error @below {{has no tile: a block holds 32 threads or more, and owns channels of one B/C group, 32 / lanes of them where lanes (a power of two) split the 16 states of a channel; none divides the 31 channels of each group}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x31x?xf32>, tensor<?x31x?xf32>, tensor<31x16xf32>, tensor<?x16x?xf32>, tensor<?x16x?xf32>) -> tensor<?x31x?xf32>
  return %y : tensor<?x31x?xf32>
}
