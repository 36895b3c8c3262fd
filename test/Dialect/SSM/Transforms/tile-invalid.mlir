// RUN: ssm-opt %s -split-input-file -ssm-tile="threads=100" -verify-diagnostics
// RUN: not ssm-opt %s -split-input-file -ssm-tile="items=3" 2>&1 | FileCheck %s --check-prefix=ITEMS
// RUN: not ssm-opt %s -split-input-file -ssm-tile="threads=64 items=16 chunk=40" 2>&1 | FileCheck %s --check-prefix=CHUNK
// RUN: not ssm-opt %s -split-input-file -ssm-tile="steps=-32" 2>&1 | FileCheck %s --check-prefix=STEPS

// Options that make an invalid #ssm.tile are reported on the scan as
// "invalid tile: " followed by the attribute verifier's message, and the
// pass fails. The expected-error lines are for the first RUN line.

// An option out of range fails the pass on every function, also where no
// op takes it (steps is the SSD kernel's; these scans are selective).
// STEPS: error: ssm-tile option steps = -32 must be at least 0

func.func @invalid_threads(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16> {
  // ITEMS: tile-invalid.mlir:[[@LINE+3]]:8: error: 'ssm.selective_scan' op invalid tile: items = 3 must be a power of two in [1, 64]
  // CHUNK: tile-invalid.mlir:[[@LINE+2]]:8: error: 'ssm.selective_scan' op invalid tile: chunk = 40 must be 0 (set at launch) or a positive multiple of items = 16
  // expected-error @below {{'ssm.selective_scan' op invalid tile: threads = 100 must be a multiple of 32 in [32, 1024]}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// -----

// A scan that has a tile is not retiled, so the options are never checked.
func.func @existing_tile_no_error(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16> {
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 16>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}
