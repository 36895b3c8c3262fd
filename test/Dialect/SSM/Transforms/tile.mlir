// RUN: ssm-opt %s -split-input-file -ssm-tile | FileCheck %s
// RUN: ssm-opt %s -split-input-file -ssm-tile="threads=128 items=8" | FileCheck %s --check-prefix=OPTS
// RUN: ssm-opt %s -split-input-file -ssm-tile="threads=256 items=4 chunk=512 fma-exps=3" | FileCheck %s --check-prefix=CHUNK
// RUN: ssm-opt %s -split-input-file -ssm-tile="stages=3 steps=64" | FileCheck %s --check-prefix=SSD

// Without options the heuristic gives 16-bit activations two lanes per
// channel and 16 items, with 64 channels a block where they divide the
// channels per B/C group, else 32; other scans get one lane, 8 items and the
// threads per block from the channels per group (64 where it divides them,
// else 128, else 32). Options override the fields they set (threads or items
// alone mean one lane), and a tile set on the function (by the spec front
// end) overrides them all. Invalid options: tile-invalid.mlir.

// 512 channels of bf16, shared B/C: two lanes for 64 channels a block.
// CHECK-LABEL: func.func @heuristic_shared
// CHECK: ssm.selective_scan {{.*}} tile = <threads = 128, items = 16, lanes = 2> :
// OPTS-LABEL: func.func @heuristic_shared
// OPTS: ssm.selective_scan {{.*}} tile = <threads = 128, items = 8> :
// CHUNK-LABEL: func.func @heuristic_shared
// CHUNK: ssm.selective_scan {{.*}} tile = <threads = 256, items = 4, chunk = 512, fma_exps = 3> :
func.func @heuristic_shared(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// -----

// 768 channels of f16 in 3 groups: 256 per group, 64 channels a block.
// CHECK-LABEL: func.func @heuristic_grouped
// CHECK: ssm.selective_scan {{.*}} layout = channel_last tile = <threads = 128, items = 16, lanes = 2> :
// OPTS-LABEL: func.func @heuristic_grouped
// OPTS: tile = <threads = 128, items = 8> :
func.func @heuristic_grouped(%u: tensor<?x?x768xf16>, %A: tensor<768x16xf32>, %B: tensor<?x?x3x16xf16>) -> tensor<?x?x768xf16> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_last
      : (tensor<?x?x768xf16>, tensor<?x?x768xf16>, tensor<768x16xf32>, tensor<?x?x3x16xf16>, tensor<?x?x3x16xf16>) -> tensor<?x?x768xf16>
  return %y : tensor<?x?x768xf16>
}

// -----

// 96 f32 channels: one lane; neither 64 nor 128 divides them, 32 threads.
// CHECK-LABEL: func.func @heuristic_falls_back_to_32
// CHECK: ssm.selective_scan {{.*}} tile = <threads = 32, items = 8> :
// OPTS-LABEL: func.func @heuristic_falls_back_to_32
// OPTS: tile = <threads = 128, items = 8> :
func.func @heuristic_falls_back_to_32(%u: tensor<2x96x1024xf32>, %A: tensor<96x4xf32>, %B: tensor<96x4xf32>) -> tensor<2x96x1024xf32> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<2x96x1024xf32>, tensor<2x96x1024xf32>, tensor<96x4xf32>, tensor<96x4xf32>, tensor<96x4xf32>) -> tensor<2x96x1024xf32>
  return %y : tensor<2x96x1024xf32>
}

// -----

// 48 channels: no block of 32 threads a lane each divides them; two lanes
// a channel make blocks of 16.
// CHECK-LABEL: func.func @heuristic_lanes_for_small_groups
// CHECK: ssm.selective_scan {{.*}} tile = <threads = 32, items = 8, lanes = 2> :
func.func @heuristic_lanes_for_small_groups(%u: tensor<2x48x1024xf32>, %A: tensor<48x16xf32>, %B: tensor<48x16xf32>) -> tensor<2x48x1024xf32> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<2x48x1024xf32>, tensor<2x48x1024xf32>, tensor<48x16xf32>, tensor<48x16xf32>, tensor<48x16xf32>) -> tensor<2x48x1024xf32>
  return %y : tensor<2x48x1024xf32>
}

// -----

// The groups of C count too: 256 channels in 8 groups of C leave 32 per
// group, 32 channels a block on two lanes.
// CHECK-LABEL: func.func @heuristic_groups_of_C
// CHECK: ssm.selective_scan {{.*}} tile = <threads = 64, items = 16, lanes = 2> :
func.func @heuristic_groups_of_C(%u: tensor<?x256x?xbf16>, %A: tensor<256x16xf32>, %B: tensor<?x16x?xbf16>, %C: tensor<?x8x16x?xbf16>) -> tensor<?x256x?xbf16> {
  %y = ssm.selective_scan %u, %u, %A, %B, %C layout = channel_first
      : (tensor<?x256x?xbf16>, tensor<?x256x?xbf16>, tensor<256x16xf32>, tensor<?x16x?xbf16>, tensor<?x8x16x?xbf16>) -> tensor<?x256x?xbf16>
  return %y : tensor<?x256x?xbf16>
}

// -----

// The channels are read off u: with a dynamic D in A, 96 channels still give
// 32 channels a block.
// CHECK-LABEL: func.func @heuristic_channels_from_u
// CHECK: ssm.selective_scan {{.*}} tile = <threads = 64, items = 16, lanes = 2> :
func.func @heuristic_channels_from_u(%u: tensor<?x?x96xbf16>, %A: tensor<?x16xf32>, %B: tensor<?x?x16xbf16>) -> tensor<?x?x96xbf16> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_last
      : (tensor<?x?x96xbf16>, tensor<?x?x96xbf16>, tensor<?x16xf32>, tensor<?x?x16xbf16>, tensor<?x?x16xbf16>) -> tensor<?x?x96xbf16>
  return %y : tensor<?x?x96xbf16>
}

// -----

// A scan that has a tile keeps it, with or without options; the untiled scan
// next to it gets one.
// CHECK-LABEL: func.func @existing_tile_kept
// CHECK: ssm.selective_scan {{.*}} tile = <threads = 256, items = 2, stages = 3> :
// CHECK: ssm.selective_scan {{.*}} reverse layout = channel_first tile = <threads = 128, items = 16, lanes = 2> :
// OPTS-LABEL: func.func @existing_tile_kept
// OPTS: ssm.selective_scan {{.*}} tile = <threads = 256, items = 2, stages = 3> :
// OPTS: ssm.selective_scan {{.*}} tile = <threads = 128, items = 8> :
func.func @existing_tile_kept(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) -> (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>) {
  %y0 = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 256, items = 2, stages = 3>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %y1 = ssm.selective_scan %u, %u, %A, %B, %B reverse layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y0, %y1 : tensor<?x512x?xbf16>, tensor<?x512x?xbf16>
}

// -----

// An SSD block owns 64 head-dim columns, one warp per 16, and works in
// chunks of 32 steps whatever chunk_size says, with the stages left to the
// kernel (two); the options can set the chunk length and the stages.
// CHECK-LABEL: func.func @ssd_chunk_tiled
// CHECK: ssm.ssd_chunk
// CHECK-SAME: tile = <threads = 128, items = 64, steps = 32>
// SSD-LABEL: func.func @ssd_chunk_tiled
// SSD: tile = <threads = 128, items = 64, stages = 3, steps = 64>
func.func @ssd_chunk_tiled(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return %y : tensor<?x?x80x64xbf16>
}

// -----

// A tile on the function applies to each of its scans that has none, in
// preference to the options and the heuristic.
// CHECK-LABEL: func.func @function_tile
// CHECK: ssm.selective_scan {{.*}} tile = <threads = 64, items = 2> :
// CHECK: ssm.selective_scan {{.*}} reverse layout = channel_first tile = <threads = 512, items = 32, chunk = 1024> :
// OPTS-LABEL: func.func @function_tile
// OPTS: ssm.selective_scan {{.*}} tile = <threads = 64, items = 2> :
// OPTS: ssm.selective_scan {{.*}} tile = <threads = 512, items = 32, chunk = 1024> :
func.func @function_tile(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) -> (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>)
    attributes {ssm.tile = #ssm.tile<threads = 512, items = 32, chunk = 1024>} {
  %y0 = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 2>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  %y1 = ssm.selective_scan %u, %u, %A, %B, %B reverse layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y0, %y1 : tensor<?x512x?xbf16>, tensor<?x512x?xbf16>
}

// -----

// A function tile without steps gets the heuristic's chunk length; its
// stages stay as they are (unset: two), with or without L segments.
// CHECK-LABEL: func.func @ssd_function_tile
// CHECK: tile = <threads = 64, items = 32, chunk = 1024, steps = 32>
func.func @ssd_function_tile(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
    attributes {ssm.tile = #ssm.tile<threads = 64, items = 32, chunk = 1024>} {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return %y : tensor<?x?x80x64xbf16>
}

// -----

// CHECK-LABEL: func.func @ssd_function_tile_whole
// CHECK: tile = <threads = 64, items = 32, steps = 32>
func.func @ssd_function_tile_whole(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
    attributes {ssm.tile = #ssm.tile<threads = 64, items = 32>} {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return %y : tensor<?x?x80x64xbf16>
}
