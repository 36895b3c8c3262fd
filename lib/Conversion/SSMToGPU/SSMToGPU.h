//===- SSMToGPU.h - Per-op kernel lowerings ---------------------*- C++ -*-===//
//
// The kernel builders of the ssm ops, called by the convert-ssm-to-gpu pass
// once it has assigned a buffer to every tensor of a layer function.
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
};

/// Builds the kernels for `op` (named after `name`) into `module` and, at
/// `host`'s insertion point, the host values their launches need. `buffers`
/// maps each tensor operand and result of `op` to its memref.
FailureOr<LoweredOp>
lowerSelectiveScan(SelectiveScanOp op, const IRMapping &buffers,
                   OpBuilder &host, gpu::GPUModuleOp module, StringRef name);

/// Builds the decode-step kernel for `op`, as lowerSelectiveScan does; the
/// new state is written over the state operand's buffer.
FailureOr<LoweredOp> lowerScanStep(ScanStepOp op, const IRMapping &buffers,
                                   OpBuilder &host, gpu::GPUModuleOp module,
                                   StringRef name);

/// Builds the causal conv1d kernel for `op`, as lowerSelectiveScan does.
FailureOr<LoweredOp> lowerCausalConv1d(CausalConv1dOp op,
                                       const IRMapping &buffers,
                                       OpBuilder &host, gpu::GPUModuleOp module,
                                       StringRef name);

/// Builds the tensor-core SSD kernel for `op`, as lowerSelectiveScan does.
FailureOr<LoweredOp> lowerSSDChunk(SSDChunkOp op, const IRMapping &buffers,
                                   OpBuilder &host, gpu::GPUModuleOp module,
                                   StringRef name);

} // namespace mlir::ssm

#endif // SSMC_LIB_CONVERSION_SSMTOGPU_SSMTOGPU_H
