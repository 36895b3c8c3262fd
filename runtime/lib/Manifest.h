//===- Manifest.h - the parsed ssmc manifest --------------------*- C++ -*-===//
//
// The manifest (runtime/MANIFEST.md) after parsing and validation: names are
// resolved to indices, so a launch never looks anything up by name. Parsing
// rejects everything a launch could trip over later, naming the JSON path of
// the offending value.
//
//===----------------------------------------------------------------------===//

#ifndef SSMRT_LIB_MANIFEST_H
#define SSMRT_LIB_MANIFEST_H

#include "Split.h"
#include "ssmrt/ssmrt.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ssmrt::detail {

/// The most dimensions a tensor may have (the size of ssmrt_tensor::shape).
constexpr std::size_t kMaxRank = 8;

/// Element size of `dtype` in bytes.
std::size_t dtypeSize(ssmrt_dtype dtype);

/// The manifest spelling of `dtype`, or nullptr for a value outside the enum.
const char *dtypeName(ssmrt_dtype dtype);

/// Stores a * b in `product`; false if that overflows size_t (a buffer's
/// byte count).
inline bool multiply(std::size_t a, int64_t b, std::size_t &product) {
  return !__builtin_mul_overflow(a, static_cast<std::size_t>(b), &product);
}

/// A shape entry or grid size: static, or the value of a layer symbol; a
/// workspace dimension or grid size may also be ceil(size / div) - minus,
/// div a constant or a symbol.
struct Extent {
  /// The size when static (symbol < 0).
  int64_t value = 0;
  /// Index into LayerDesc::symbols, or -1.
  int32_t symbol = -1;
  /// The divisor: `div`, or symbol `divSymbol` where that is >= 0.
  int64_t div = 1;
  int32_t divSymbol = -1;
  /// Subtracted from the quotient, which may then be 0: an empty workspace,
  /// or a grid whose launch is skipped.
  int64_t minus = 0;

  bool isSymbol() const { return symbol >= 0; }
  /// Whether it uses no symbol, as size or divisor.
  bool isStatic() const { return symbol < 0 && divSymbol < 0; }
  /// Its value once every symbol it uses is bound in `symbols`.
  int64_t valueWith(const std::vector<int64_t> &symbols) const {
    int64_t size = isSymbol() ? symbols[symbol] : value;
    int64_t divisor = divSymbol >= 0 ? symbols[divSymbol] : div;
    return std::max<int64_t>(ceilDiv(size, divisor) - minus, 0);
  }
};

/// The common part of a workspace and a tensor.
struct BufferDesc {
  std::string name;
  ssmrt_dtype dtype = SSMRT_F32;
  std::vector<Extent> shape;
};

/// A CUtensorMap (TMA descriptor) that the runtime encodes at each launch
/// into a workspace (the manifest's `tensor_maps`): tensor `tensor` viewed
/// with its innermost dimensions merged down to the rank of `box`, read in
/// boxes of `box` elements (innermost first), elements out of bounds as
/// zeros.
struct TensorMapDesc {
  int32_t tensor = 0;
  std::vector<uint32_t> box;
};

/// The bytes of one encoded tensor map.
constexpr std::size_t kTensorMapBytes = 128;

/// A workspace buffer.
struct WorkspaceDesc : BufferDesc {
  /// The runtime zero-fills the buffer whenever it allocates it, and the
  /// kernels leave it zeroed when they finish (the manifest's `zeroed`).
  bool zeroed = false;
  /// The tensor maps the runtime writes to the buffer, 128 bytes each.
  std::vector<TensorMapDesc> tensorMaps;
};

/// How a layer uses a tensor; the values are those ssmrt_layer_tensor_info
/// reports.
enum class Role : int32_t { Input = 0, Output = 1, InOut = 2 };

/// A user-visible tensor of a layer.
struct TensorDesc : BufferDesc {
  Role role = Role::Input;
};

/// A kernel parameter: the pointer of a tensor or workspace, or a symbol.
struct Param {
  enum class Kind { Tensor, Workspace, Symbol };
  Kind kind = Kind::Tensor;
  /// Index into the layer's tensors, workspaces or symbols.
  int32_t index = 0;
};

/// The range of a symbol's values for which a launch runs (the manifest's
/// `when`): a layer may launch one kernel for a decode step (L = 1) and
/// another for longer sequences.
struct Condition {
  /// Index into LayerDesc::symbols, or -1: the launch always runs.
  int32_t symbol = -1;
  int64_t min = 1;
  int64_t max = std::numeric_limits<int64_t>::max();

  bool holds(const std::vector<int64_t> &symbols) const {
    return symbol < 0 || (symbols[symbol] >= min && symbols[symbol] <= max);
  }
};

/// One kernel launch of a layer.
struct LaunchDesc {
  std::string kernel;
  Condition when;
  std::array<uint32_t, 3> block = {1, 1, 1};
  uint32_t sharedBytes = 0;
  std::array<Extent, 3> grid;
  std::vector<Param> params;
};

/// A symbol the runtime chooses at launch: the length of the segments a
/// kernel's blocks split symbol `over` (the sequence) into, a multiple of
/// `quantum`.
struct SplitDesc {
  int32_t symbol = -1;
  int32_t over = -1;
  int64_t quantum = 1;
  /// Its shortest segment where L allows (the manifest's `min_steps`).
  int64_t minSteps = kMinSplitSteps;
  /// The waves of blocks its segments are sized for (the manifest's
  /// `waves`).
  int64_t waves = kSplitWaves;
  /// With `fill` > 0, the blocks an SM of the persistent scan whose work
  /// units the segments are (the manifest's `fill`, chooseFillSplit), in
  /// place of the waves.
  int64_t fill = 0;
  /// The launch that decides it: the layer's last whose grid it divides.
  int32_t launch = -1;
};

/// A symbol the runtime chooses at launch: the block count of a persistent
/// kernel, whose blocks share the product of `units` between them.
struct WorkersDesc {
  int32_t symbol = -1;
  /// Grid-entry extents; they may use the split symbol.
  std::vector<Extent> units;
  /// The blocks that saturate an SM (the manifest's `per_sm`).
  int64_t perSM = 1;
  /// The launch that decides it: the layer's last whose grid x it is.
  int32_t launch = -1;
};

/// A layer: its symbols, tensors in launch order, workspaces and kernels.
struct LayerDesc {
  std::string name;
  std::vector<std::string> symbols;
  /// The split symbol, if any (split.symbol < 0: none).
  SplitDesc split;
  /// The workers symbol, if any (workers.symbol < 0: none).
  WorkersDesc workers;
  std::vector<TensorDesc> tensors;
  std::vector<WorkspaceDesc> workspaces;
  std::vector<LaunchDesc> launches;
};

/// A whole manifest.
struct Manifest {
  /// The kernel image's path, relative to the manifest's directory.
  std::string binary;
  std::vector<LayerDesc> layers;
};

/// Parses and validates a manifest; throws Failure(SSMRT_ERROR_MANIFEST) with
/// a message of the form "manifest: <json path>: <problem>".
Manifest parseManifest(std::string_view text);

} // namespace ssmrt::detail

#endif // SSMRT_LIB_MANIFEST_H
