//===- SSMToGPU.h - Per-op kernel lowerings ---------------------*- C++ -*-===//
//
// The kernel builders of the ssm ops, called by the convert-ssm-to-gpu
// patterns with the buffer of every tensor of the op they lower.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_LIB_CONVERSION_SSMTOGPU_SSMTOGPU_H
#define SSMC_LIB_CONVERSION_SSMTOGPU_SSMTOGPU_H

#include "KernelBuilder.h"
#include "ssmc/Dialect/SSM/SSMOps.h"

#include "mlir/IR/IRMapping.h"

namespace mlir::ssm {

/// The kernels an op lowers to, launched in order, and the workspace buffers
/// they share (freed after the last launch).
struct LoweredOp {
  SmallVector<KernelLaunch> launches;
  SmallVector<Value> workspaces;

  /// Allocates workspace `name` (its name in the manifest) of `type` at
  /// `host`'s insertion point, with `sizes` for its dynamic dimensions.
  /// A `zeroed` one is zero when the kernels start, and they leave it so.
  Value addWorkspace(OpBuilder &host, Location loc, MemRefType type,
                     ValueRange sizes, StringRef name, bool zeroed = false);
};

/// The L segments the blocks of a scan split the sequence into, and the
/// host values that go with them: a carry kernel sums each segment but the
/// last, the scan carries the sums in.
struct LSegments {
  /// Builds, at `host`'s insertion point, the segment length (`chunk`, or
  /// when that is 0 an ssm.split_length of `len` in multiples of `quantum`
  /// and of at least `minSteps` steps, for three waves of blocks or, with
  /// `fill`, as the units of a persistent kernel of `fill` blocks an SM,
  /// which libssmrt picks at launch), the segment count and the count of
  /// those that carry a state on: all but the one scanned last.
  LSegments(OpBuilder &host, Location loc, Value batch, Value len,
            int64_t chunk, int64_t quantum, int64_t minSteps,
            std::optional<int64_t> fill = std::nullopt);

  /// Adds the f32 carry workspace `name`, [B, carried, trailing...]: empty
  /// for a single segment.
  Value addCarry(LoweredOp &lowered, ArrayRef<int64_t> trailing,
                 StringRef name);
  /// Appends the sizes a scan kernel takes last: B, L and, when the runtime
  /// picks it, the segment length.
  void appendSizes(SmallVector<KernelParam> &params) const;

  OpBuilder &host;
  Location loc;
  Value batch, len, steps, count, carried;
  bool atLaunch;
};

/// Where the lowerings put their kernels, and what the targets allow.
struct KernelTarget {
  /// The gpu.module that holds the kernels of every layer function.
  gpu::GPUModuleOp module;
  /// Every target is sm_90 or newer: the SSD scan may stage B and C by TMA
  /// tensor copies.
  bool tensorCopies = false;
};

/// Checks that the kernels of `op` can be built for `target` (whose module
/// may still be null): emits an error at `op` and fails for tiles and sizes
/// they do not support. Called before anything changes, so that the lowering
/// of an op that passes does not fail.
LogicalResult checkKernels(SelectiveScanOp op, const KernelTarget &target);
LogicalResult checkKernels(ScanStepOp op, const KernelTarget &target);
LogicalResult checkKernels(CausalConv1dOp op, const KernelTarget &target);
LogicalResult checkKernels(SSDChunkOp op, const KernelTarget &target);
LogicalResult checkKernels(RMSNormGatedOp op, const KernelTarget &target);

/// Builds the kernels for `op` (named after `name`), which passed
/// checkKernels, into `target.module` and, at `host`'s insertion point, the
/// host values their launches need. `buffers` maps each tensor operand and
/// result of `op` to its memref; a result may share its operand's buffer
/// where the op updates it in place (a decode step's state, a channel-last
/// conv1d's state).
FailureOr<LoweredOp> lowerToKernels(SelectiveScanOp op,
                                    const IRMapping &buffers, OpBuilder &host,
                                    const KernelTarget &target, StringRef name);
FailureOr<LoweredOp> lowerToKernels(ScanStepOp op, const IRMapping &buffers,
                                    OpBuilder &host, const KernelTarget &target,
                                    StringRef name);
FailureOr<LoweredOp> lowerToKernels(CausalConv1dOp op, const IRMapping &buffers,
                                    OpBuilder &host, const KernelTarget &target,
                                    StringRef name);
FailureOr<LoweredOp> lowerToKernels(SSDChunkOp op, const IRMapping &buffers,
                                    OpBuilder &host, const KernelTarget &target,
                                    StringRef name);
FailureOr<LoweredOp> lowerToKernels(RMSNormGatedOp op, const IRMapping &buffers,
                                    OpBuilder &host, const KernelTarget &target,
                                    StringRef name);

/// Checks that the gated RMSNorm kernel supports operands of these types
/// (ranked tensors or contiguous memrefs; a null `z`: no gate), as
/// buildRMSNormGatedKernel describes them; emits an error at `loc` if not.
LogicalResult checkRMSNormGatedKernel(Location loc, ShapedType y, ShapedType z,
                                      ShapedType weight, ShapedType out,
                                      int64_t groupSize);

/// Builds the gated RMSNorm kernel `name` into `module` for buffers rather
/// than an op, so that other lowerings can launch it after their own kernels,
/// and creates at `host`'s insertion point the host values its launch needs;
/// the caller emits the launch. `y`, `z` (null: no gate) and `out` are
/// contiguous memrefs of one shape with a static last dimension, the one
/// normalized in groups of `groupSize`; the other dimensions are rows (the
/// product of all but the last two must fit grid y, < 65536). Element types
/// are f32, f16 or bf16 and may differ (an f32 workspace can feed a bf16
/// output); `weight` is [last dim]. `out` must not alias `y` or `z`. Emits an
/// error at `loc` and fails for sizes the kernel does not support.
FailureOr<KernelLaunch>
buildRMSNormGatedKernel(OpBuilder &host, Location loc, gpu::GPUModuleOp module,
                        StringRef name, Value y, Value z, Value weight,
                        Value out, int64_t groupSize, double eps,
                        bool normBeforeGate);

} // namespace mlir::ssm

#endif // SSMC_LIB_CONVERSION_SSMTOGPU_SSMTOGPU_H
