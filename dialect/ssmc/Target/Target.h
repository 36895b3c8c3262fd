//===- Target.h - GPU binary and manifest emission --------------*- C++ -*-===//
//
// The last step of ssmc: the GPU binary (one fatbin with a cubin per SM
// target plus PTX for forward compatibility) and the manifest that tells
// libssmrt how to launch its kernels (runtime/MANIFEST.md).
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_TARGET_TARGET_H
#define SSMC_TARGET_TARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace mlir::ssm {

/// A compiled GPU object for one SM target.
struct GPUObject {
  /// The target chip, e.g. "sm_90".
  std::string chip;
  /// "bin" (cubin) or "isa" (PTX).
  std::string format;
  std::string data;
};

/// How serializeGPUModule compiles.
struct SerializeOptions {
  /// The CUDA toolkit (ptxas, libdevice).
  std::string toolkitPath;
  std::string ptxasOptions;
  /// A cubin and its PTX for each target, or the PTX alone.
  bool binaries = true;
};

/// Checks that the CUDA toolkit at `toolkitPath` has libdevice, and where
/// `binaries` also ptxas and fatbinary, so that a wrong path fails before
/// the compilation rather than once a target. Unlike gpu-module-to-binary,
/// ssmc does not fall back to a ptxas on PATH: one toolkit builds it all.
llvm::Error checkToolkit(llvm::StringRef toolkitPath, bool binaries);

/// Serializes the one gpu.module of `module`, after its lowering to NVVM,
/// for each of its targets, the targets in parallel: in target order, each
/// target's cubin (where `binaries`) then its PTX. Reports failures as
/// diagnostics; `module` is not changed.
FailureOr<std::vector<GPUObject>>
serializeGPUModule(ModuleOp module, const SerializeOptions &options);

/// The object of `ptx` that later GPUs JIT-compile: the newest SM's, and of
/// one SM the portable PTX rather than the arch-specific one (sm_90a PTX
/// runs on sm_90 alone). Null if `ptx` is empty.
const GPUObject *selectForwardPTX(llvm::ArrayRef<GPUObject> ptx);

/// Bundles cubins and PTX into one fatbin with the toolkit's `fatbinary`.
llvm::Expected<std::string> buildFatbin(llvm::ArrayRef<GPUObject> objects,
                                        llvm::StringRef toolkitPath);

/// Builds the manifest of `module` after convert-ssm-to-gpu: one layer per
/// host function that launches kernels. `binaryName` is the fatbin's file
/// name; `archs` the SM targets it holds.
llvm::Expected<llvm::json::Value>
buildManifest(ModuleOp module, llvm::StringRef binaryName,
              llvm::ArrayRef<std::string> archs);

} // namespace mlir::ssm

#endif // SSMC_TARGET_TARGET_H
