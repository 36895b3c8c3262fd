//===- Spec.h - JSON layer spec to ssm IR -----------------------*- C++ -*-===//
//
// The spec front end: a JSON description of a model's state-space layers
// (format in examples/README.md) is parsed and validated into a ModelSpec,
// which is then built into an ssm module with one unfused layer function per
// layer. Every problem in a spec is reported as an llvm::Error whose message
// starts with the JSON path at fault, e.g.
// "spec.layers[0].d_state: expected a positive integer, got -4".
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_SPEC_SPEC_H
#define SSMC_SPEC_SPEC_H

#include "ssmc/Dialect/SSM/SSMDialect.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
class MLIRContext;
class ModuleOp;
template <typename OpTy> class OwningOpRef;
} // namespace mlir

namespace mlir::ssm {

/// The operation a spec layer computes.
enum class LayerKind {
  SelectiveScan,
  ScanStep,
  CausalConv1d,
  SSDChunk,
  RMSNormGated
};

/// An element type a spec may name.
enum class DType { F32, F16, BF16 };

/// The tiling a spec layer requests for its scan kernel.
struct TileSpec {
  /// Threads per block: a multiple of 32 in [32, 1024].
  int64_t threads;
  /// Consecutive time steps per thread: a power of two in [1, 64].
  int64_t items;
  /// Length of the L segments scanned in parallel (0: libssmrt picks it at
  /// each launch), a multiple of `items`.
  int64_t chunk = 0;
  /// Threads per channel (selective scans): a power of two dividing N and
  /// items.
  int64_t lanes = 1;
  /// State exps per thread and step on the FMA pipe (selective scans), at
  /// most N / lanes.
  int64_t fmaExps = 0;
  /// Chunks of x, B and C staged in workgroup memory (ssd_chunk): 2 or 3;
  /// 0 leaves it to the ssm-tile heuristic.
  int64_t stages = 0;
  /// The chunk length the kernel works in (ssd_chunk): a multiple of 32
  /// dividing chunk_size; 0 leaves it to the ssm-tile heuristic.
  int64_t steps = 0;
  /// The SSD kernel on warpgroup MMA (ssd_chunk; every arch sm_90a, threads
  /// 128, items 64, steps 32, stages 3).
  bool warpgroup = false;
};

/// One layer of a spec, as parsed (defaults filled in).
struct LayerSpec {
  /// Identifier, unique in the spec; the name of the layer function.
  std::string name;
  LayerKind kind = LayerKind::SelectiveScan;
  /// Element type of the activations u, delta, z and y.
  DType dtype = DType::F32;
  Layout layout = Layout::ChannelFirst;
  /// D, the number of channels.
  int64_t dInner = 0;
  /// N, the state size per channel.
  int64_t dState = 0;
  /// How B and C vary: per channel, shared by all channels or per group.
  BCKind bc = BCKind::Grouped;
  /// G, the number of B/C groups (1 unless `bc` is grouped).
  int64_t ngroups = 1;
  /// Element type of B and C: `dtype` or f32.
  DType bcDtype = DType::F32;
  /// Whether the layer has the D skip, the z gate, the delta bias, softplus
  /// on delta, an initial state input and a last state output.
  bool skip = false;
  bool gate = false;
  bool deltaBias = false;
  bool deltaSoftplus = false;
  bool initialState = false;
  bool finalState = false;
  /// Whether a conv1d's final state is written over its initial state (one
  /// in-out "conv_state" tensor, as a decode step updates it).
  bool stateInPlace = false;
  /// Whether the scan runs from the last time step to the first.
  bool reverse = false;
  /// Whether the layer is a Vim pair of scans, forward and backward, each
  /// with its own u, Δ, A, B/C, skip and bias (stacked: 2D channels, 2G
  /// groups), summed into one output of D channels.
  bool bidirectional = false;
  /// H and W of a VMamba SS2D cross scan (0 for other layers): L = H·W
  /// tokens of an H x W grid scanned in four directions, each with its own
  /// Δ, A, B/C, skip and bias (stacked: 4D channels, 4G groups), sharing u.
  int64_t crossHeight = 0, crossWidth = 0;
  bool crossScan() const { return crossHeight > 0; }
  /// The directions the scan runs: 4 for a cross scan, 2 for a
  /// bidirectional one, else 1.
  int64_t directions() const {
    return getDirectionCount(bidirectional, crossScan());
  }
  /// A decode step of the Mamba-2 form (state [B, H, P, N], scalar decay per
  /// head) rather than the Mamba-1 form (state [B, D, N]).
  bool mamba2 = false;
  /// H and P of the Mamba-2 form (D = H·P).
  int64_t nheads = 0, headdim = 0;
  /// The SSD chunk length Q.
  int64_t chunkSize = 0;
  /// A causal conv1d's width K (2..4), bias and silu activation; its
  /// channels are `dInner`.
  int64_t convWidth = 0;
  bool convBias = false;
  bool silu = false;
  /// A gated RMSNorm's groups (of `dInner`, its last dimension, or of an SSD
  /// layer's H·P when `norm` is set), eps, mode and weight type; its gate is
  /// `gate`.
  bool norm = false;
  int64_t groupSize = 0;
  double eps = 1e-5;
  bool normBeforeGate = false;
  DType weightDtype = DType::F32;
  std::optional<TileSpec> tile;
};

/// A parsed spec: the model name, the target architectures and its layers.
struct ModelSpec {
  std::string name;
  std::vector<std::string> archs;
  std::vector<LayerSpec> layers;
};

/// Fails, unlocated, where `arch` is not a supported target or is one of
/// `earlier` (the targets listed before it).
llvm::Error checkArch(llvm::StringRef arch,
                      llvm::ArrayRef<std::string> earlier);

/// Whether every one of `archs` (supported ones) has TMA tensor copies:
/// sm_90 or newer.
bool allHaveTensorCopies(llvm::ArrayRef<std::string> archs);

/// Fails, naming the layer's tile.warpgroup, where a layer asks for the
/// warpgroup kernel and not every one of `archs` (`what` says whose) is
/// sm_90a.
llvm::Error checkWarpgroupArchs(const ModelSpec &spec,
                                llvm::ArrayRef<std::string> archs,
                                llvm::StringRef what);

/// Parses and validates a spec. Every error message names the JSON path at
/// fault, e.g. "spec.layers[0].d_state: expected a positive integer, got -4";
/// malformed JSON gives "spec: invalid JSON: [line:column, byte=offset]: ...".
llvm::Expected<ModelSpec> parseSpec(llvm::StringRef json);

/// Builds a module named after the spec with one unfused func.func per layer
/// (discretize, scan, then skip and gate as the layer asks), tagged
/// `ssm.layer`, with its `ssm.tile` when the layer has one; the module carries
/// the target architectures as `ssm.archs`. Loads the ssm and func dialects
/// into `ctx`. `spec` must come from parseSpec.
OwningOpRef<ModuleOp> buildLayerModule(const ModelSpec &spec, MLIRContext &ctx);

} // namespace mlir::ssm

#endif // SSMC_SPEC_SPEC_H
