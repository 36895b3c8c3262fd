// RUN: ssm-opt %s -split-input-file -ssm-tile="warpgroup-mma" | FileCheck %s
// RUN: ssm-opt %s -split-input-file -ssm-tile | FileCheck %s --check-prefix=SYNC

// With warpgroup-mma (an opt-in for sm_90a-only builds) an SSD that fits
// gets the warpgroup tile: one warpgroup a block, 64 head-dim columns,
// 32-step chunks, three stages; over L segments where the function's tile
// asks for them. Without the option it keeps mma.sync.
// CHECK-LABEL: func.func @fits
// CHECK: tile = <threads = 128, items = 64, stages = 3, steps = 32, warpgroup = true>
// SYNC-LABEL: func.func @fits
// SYNC: tile = <threads = 128, items = 64, steps = 32>
func.func @fits(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return %y : tensor<?x?x80x64xbf16>
}

// -----

// CHECK-LABEL: func.func @segments
// CHECK: tile = <threads = 128, items = 64, chunk = 1024, stages = 3, steps = 32, warpgroup = true>
func.func @segments(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
    attributes {ssm.tile = #ssm.tile<threads = 128, items = 64, chunk = 1024>} {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return %y : tensor<?x?x80x64xbf16>
}

// -----

// A head dim of 32 does not fill the warpgroup's 64 rows, a function tile
// with another block shape keeps it: both stay on mma.sync.
// CHECK-LABEL: func.func @narrow
// CHECK: tile = <threads = 64, items = 32, steps = 32>
func.func @narrow(%x: tensor<?x?x8x32xbf16>, %dt: tensor<?x?x8xbf16>, %A: tensor<8xf32>, %B: tensor<?x?x1x128xbf16>) -> tensor<?x?x8x32xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 32 ngroups = 1
      : (tensor<?x?x8x32xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x8x32xbf16>
  return %y : tensor<?x?x8x32xbf16>
}

// -----

// CHECK-LABEL: func.func @other_block
// CHECK: tile = <threads = 64, items = 32, steps = 32>
func.func @other_block(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
    attributes {ssm.tile = #ssm.tile<threads = 64, items = 32>} {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return %y : tensor<?x?x80x64xbf16>
}

// -----

// A function tile that asks for warpgroup MMA (the spec's opt-in) is kept
// with or without the option.
// CHECK-LABEL: func.func @spec_warpgroup
// CHECK: tile = <threads = 128, items = 64, chunk = 2048, stages = 3, steps = 32, warpgroup = true>
// SYNC-LABEL: func.func @spec_warpgroup
// SYNC: tile = <threads = 128, items = 64, chunk = 2048, stages = 3, steps = 32, warpgroup = true>
func.func @spec_warpgroup(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
    attributes {ssm.tile = #ssm.tile<threads = 128, items = 64, chunk = 2048, stages = 3, steps = 32, warpgroup = true>} {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return %y : tensor<?x?x80x64xbf16>
}
