//===- Shapes.cpp - launch argument validation ------------------*- C++ -*-===//
//
// Symbols are bound from the first tensor dimension that uses them, in
// manifest order, and every later use must agree (MANIFEST.md). Messages name
// the tensor and dimension, e.g. "launch: tensor 'u' dim 1 is 4096, expected
// 5120".
//
//===----------------------------------------------------------------------===//

#include "Shapes.h"

#include "Failure.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

namespace ssmrt::detail {
namespace {

[[noreturn]] void badShape(const std::string &message) {
  fail(SSMRT_ERROR_SHAPE, "launch: " + message);
}

std::string quoted(const std::string &name) { return "'" + name + "'"; }

std::string dtypeString(ssmrt_dtype dtype) {
  const char *name = dtypeName(dtype);
  return name ? name : "invalid (" + std::to_string(dtype) + ")";
}

std::string hex(const void *pointer) {
  char text[2 + 2 * sizeof(void *) + 1];
  std::snprintf(text, sizeof(text), "0x%llx",
                static_cast<unsigned long long>(
                    reinterpret_cast<std::uintptr_t>(pointer)));
  return text;
}

/// The most bytes a tensor may hold: far more than any GPU has, and few
/// enough that products of its dimensions stay well inside int64_t.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 48;

} // namespace

LaunchShapes bindShapes(const LayerDesc &layer, const ssmrt_tensor *tensors,
                        int32_t numTensors) {
  if (numTensors != static_cast<int32_t>(layer.tensors.size()))
    badShape("layer " + quoted(layer.name) + " takes " +
             std::to_string(layer.tensors.size()) + " tensors, got " +
             std::to_string(numTensors));
  if (numTensors > 0 && !tensors)
    fail(SSMRT_ERROR_INVALID_VALUE, "launch: tensors is null");

  LaunchShapes shapes;
  shapes.symbols.assign(layer.symbols.size(), 0);
  // The tensor each symbol was bound from, or -1.
  std::vector<int32_t> binder(layer.symbols.size(), -1);

  for (int32_t i = 0; i < numTensors; ++i) {
    const TensorDesc &desc = layer.tensors[i];
    const ssmrt_tensor &tensor = tensors[i];
    std::string name = "tensor " + quoted(desc.name);
    if (tensor.dtype != desc.dtype)
      badShape(name + " dtype is " + dtypeString(tensor.dtype) + ", expected " +
               dtypeString(desc.dtype));
    if (tensor.rank != static_cast<int32_t>(desc.shape.size()))
      badShape(name + " rank is " + std::to_string(tensor.rank) +
               ", expected " + std::to_string(desc.shape.size()));
    for (std::size_t d = 0; d < desc.shape.size(); ++d) {
      const Extent &extent = desc.shape[d];
      int64_t size = tensor.shape[d];
      std::string dim = name + " dim " + std::to_string(d);
      if (!extent.isSymbol()) {
        if (size != extent.value)
          badShape(dim + " is " + std::to_string(size) + ", expected " +
                   std::to_string(extent.value));
        continue;
      }
      const std::string &symbol = layer.symbols[extent.symbol];
      int32_t &from = binder[extent.symbol];
      if (from < 0) {
        if (size < 1)
          badShape(dim + " binds symbol " + quoted(symbol) + " to " +
                   std::to_string(size) + ", expected >= 1");
        shapes.symbols[extent.symbol] = size;
        from = i;
      } else if (size != shapes.symbols[extent.symbol]) {
        badShape("symbol " + quoted(symbol) + " is " +
                 std::to_string(shapes.symbols[extent.symbol]) + " from " +
                 quoted(layer.tensors[from].name) + " but " +
                 std::to_string(size) + " from " + quoted(desc.name));
      }
    }
    // Bounded tensors bound every symbol, and with them the grid, split and
    // workspace arithmetic that follows.
    int64_t bytes = static_cast<int64_t>(dtypeSize(desc.dtype));
    for (int32_t d = 0; d < tensor.rank; ++d)
      if (__builtin_mul_overflow(bytes, tensor.shape[d], &bytes) ||
          bytes > kMaxTensorBytes)
        badShape(name + " holds more than 2^48 bytes");
    if (!tensor.data)
      badShape(name + " data is null");
    if (reinterpret_cast<std::uintptr_t>(tensor.data) % 16 != 0)
      badShape(name + " data " + hex(tensor.data) + " is not 16-byte aligned");
  }

  return shapes;
}

void sizeLaunches(const LayerDesc &layer, int64_t sms,
                  const std::vector<int64_t> &blocksPerSM,
                  LaunchShapes &shapes) {
  if (layer.split.launch >= 0) {
    const LaunchDesc &launch = layer.launches[layer.split.launch];
    int64_t blocks = 1;
    for (std::size_t d = 0; d < 3; ++d)
      if (launch.grid[d].divSymbol != layer.split.symbol &&
          __builtin_mul_overflow(
              blocks, launch.grid[d].valueWith(shapes.symbols), &blocks))
        badShape("the grid of launch " + quoted(launch.kernel) +
                 " overflows int64_t");
    int64_t length = shapes.symbols[layer.split.over];
    shapes.symbols[layer.split.symbol] =
        layer.split.fill
            ? chooseFillSplit(length, layer.split.quantum, blocks, sms,
                              layer.split.fill, layer.split.minSteps)
            : chooseSplit(length, layer.split.quantum, blocks, sms,
                          blocksPerSM[layer.split.launch], layer.split.minSteps,
                          layer.split.waves);
  }

  if (layer.workers.launch >= 0) {
    int64_t units = 1;
    for (const Extent &unit : layer.workers.units)
      if (__builtin_mul_overflow(units, unit.valueWith(shapes.symbols), &units))
        badShape("the units of symbol " +
                 quoted(layer.symbols[layer.workers.symbol]) +
                 " overflow int64_t");
    shapes.symbols[layer.workers.symbol] = chooseWorkers(
        units, layer.workers.perSM, sms, blocksPerSM[layer.workers.launch]);
  }

  for (const BufferDesc &workspace : layer.workspaces) {
    std::size_t bytes = dtypeSize(workspace.dtype);
    for (const Extent &extent : workspace.shape)
      if (!multiply(bytes, extent.valueWith(shapes.symbols), bytes))
        badShape("workspace " + quoted(workspace.name) +
                 " size overflows size_t");
    shapes.workspaceBytes.push_back(bytes);
  }

  // The driver's grid limits: 2^31 - 1 blocks in x, 65535 in y and z.
  constexpr int64_t kMaxGrid[3] = {std::numeric_limits<int32_t>::max(), 65535,
                                   65535};
  for (const LaunchDesc &launch : layer.launches) {
    // A launch whose condition fails gets an empty grid, which is skipped.
    std::array<uint32_t, 3> grid = {0, 0, 0};
    if (!launch.when.holds(shapes.symbols)) {
      shapes.grids.push_back(grid);
      continue;
    }
    for (std::size_t d = 0; d < 3; ++d) {
      int64_t blocks = launch.grid[d].valueWith(shapes.symbols);
      if (blocks > kMaxGrid[d])
        badShape("kernel " + quoted(launch.kernel) + " grid[" +
                 std::to_string(d) + "] is " + std::to_string(blocks) +
                 ", more than the driver accepts (" +
                 std::to_string(kMaxGrid[d]) + ")");
      grid[d] = static_cast<uint32_t>(blocks);
    }
    shapes.grids.push_back(grid);
  }
}

} // namespace ssmrt::detail
