//===- Shapes.h - launch argument validation --------------------*- C++ -*-===//
//
// Checks the tensors of a launch against the layer's manifest entry and
// derives everything size-dependent that the launch needs: symbol values,
// workspace sizes and grid dimensions. Pure host code, so every tensor error
// is found before the driver is touched (and on machines without a GPU); a
// layer whose L is split or whose workers are counted at launch needs the
// device's SM count and occupancy for its sizes, the others are sized before
// the driver too.
//
//===----------------------------------------------------------------------===//

#ifndef SSMRT_LIB_SHAPES_H
#define SSMRT_LIB_SHAPES_H

#include "Manifest.h"
#include "Split.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ssmrt::detail {

/// The sizes of one launch of a layer.
struct LaunchShapes {
  /// Value of each layer symbol.
  std::vector<int64_t> symbols;
  /// Bytes of each workspace.
  std::vector<std::size_t> workspaceBytes;
  /// Grid of each kernel launch; a launch with an empty grid is skipped
  /// (a launch whose `when` fails has one).
  std::vector<std::array<uint32_t, 3>> grids;
};

/// Validates `tensors` against `layer` in manifest order (count, dtype, rank,
/// static dims, symbol consistency, symbols >= 1, non-null 16-byte-aligned
/// data) and binds the symbols the tensors size; throws
/// Failure(SSMRT_ERROR_SHAPE) naming the tensor and dimension at fault.
LaunchShapes bindShapes(const LayerDesc &layer, const ssmrt_tensor *tensors,
                        int32_t numTensors);

/// Completes `shapes` after bindShapes: the split symbol, then the workers
/// symbol, where the layer has them (each chosen for `sms` SMs holding
/// `blocksPerSM[i]` blocks of its deciding launch i; both are unused
/// otherwise), then the workspace sizes and the grids; throws
/// Failure(SSMRT_ERROR_SHAPE) if a size overflows.
void sizeLaunches(const LayerDesc &layer, int64_t sms,
                  const std::vector<int64_t> &blocksPerSM,
                  LaunchShapes &shapes);

} // namespace ssmrt::detail

#endif // SSMRT_LIB_SHAPES_H
