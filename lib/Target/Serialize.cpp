//===- Serialize.cpp - Serialize the gpu.module for every target -*- C++
//-*-===//
//
// ssmc needs both the PTX and the cubin of every SM target. gpu-module-to-
// binary serializes one format a run and the targets one after another, so
// two runs of it generated code twice a target, in series. Here each target
// is serialized through its own TargetAttrInterface, the targets in
// parallel on the context's thread pool, and the PTX that the cubin is
// assembled from is kept through the ISA callback: one LLVM code generation
// a target.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Target/Target.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Threading.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::ssm;

namespace {
/// What one target's serialization produced.
struct TargetObjects {
  std::string chip;
  std::optional<SmallVector<char, 0>> object;
  std::string ptx;
};
} // namespace

llvm::Error mlir::ssm::checkToolkit(StringRef toolkitPath, bool binaries) {
  auto missing = [&](StringRef what, llvm::SmallString<128> &path) {
    return llvm::createStringError(
        "CUDA toolkit '%s' has no %s ('%s'): install it or pass --cuda-path",
        toolkitPath.str().c_str(), what.str().c_str(), path.c_str());
  };
  llvm::SmallString<128> libdevice(toolkitPath);
  llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
  if (!llvm::sys::fs::is_regular_file(libdevice))
    return missing("libdevice", libdevice);
  if (!binaries)
    return llvm::Error::success();
  for (StringRef tool : {"ptxas", "fatbinary"}) {
    llvm::SmallString<128> path(toolkitPath);
    llvm::sys::path::append(path, "bin", tool);
    if (!llvm::sys::fs::can_execute(path))
      return missing(tool, path);
  }
  return llvm::Error::success();
}

FailureOr<std::vector<GPUObject>>
mlir::ssm::serializeGPUModule(ModuleOp module,
                              const SerializeOptions &options) {
  auto gpuModules = llvm::to_vector(module.getOps<gpu::GPUModuleOp>());
  if (gpuModules.size() != 1)
    return module.emitError("expected one gpu.module to serialize, found ")
           << gpuModules.size();
  gpu::GPUModuleOp gpuModule = gpuModules.front();
  ArrayAttr targets = gpuModule.getTargetsAttr();
  if (!targets || targets.empty())
    return gpuModule.emitError("gpu.module has no target to serialize for");

  // Each target serializes its own copy: NVVM's serializer sets timing
  // attributes on the module it reads.
  SmallVector<OwningOpRef<gpu::GPUModuleOp>> copies;
  SmallVector<TargetObjects> results(targets.size());
  for (auto [target, result] : llvm::zip_equal(targets, results)) {
    auto nvvm = dyn_cast<NVVM::NVVMTargetAttr>(target);
    if (!nvvm)
      return gpuModule.emitError("gpu.module has a non-NVVM target ") << target;
    result.chip = nvvm.getChip().str();
    copies.push_back(gpuModule.clone());
  }

  gpu::CompilationTarget format = options.binaries
                                      ? gpu::CompilationTarget::Binary
                                      : gpu::CompilationTarget::Assembly;
  MLIRContext *ctx = module.getContext();
  ParallelDiagnosticHandler diagnostics(ctx);
  std::atomic<bool> failed = false;
  parallelFor(ctx, 0, results.size(), [&](size_t i) {
    diagnostics.setOrderIDForThread(i);
    TargetObjects &result = results[i];
    auto keepPTX = [&](StringRef ptx) { result.ptx = ptx.str(); };
    gpu::TargetOptions targetOptions(
        options.toolkitPath, /*librariesToLink=*/{}, options.ptxasOptions,
        /*elfSection=*/{}, format, /*getSymbolTableCallback=*/{},
        /*initialLlvmIRCallback=*/{}, /*linkedLlvmIRCallback=*/{},
        /*optimizedLlvmIRCallback=*/{}, keepPTX);
    gpu::GPUModuleOp copy = *copies[i];
    result.object = cast<gpu::TargetAttrInterface>(targets[i])
                        .serializeToObject(copy, targetOptions);
    if (!result.object) {
      copy.emitError("cannot serialize the kernels for ") << result.chip;
      failed = true;
    }
    diagnostics.eraseOrderIDForThread();
  });
  if (failed)
    return failure();

  std::vector<GPUObject> objects;
  for (TargetObjects &result : results) {
    std::string object(result.object->begin(), result.object->end());
    if (!options.binaries) {
      objects.push_back({result.chip, "isa", std::move(object)});
      continue;
    }
    if (result.ptx.empty())
      return gpuModule.emitError("no PTX was kept for ") << result.chip;
    objects.push_back({result.chip, "bin", std::move(object)});
    objects.push_back({result.chip, "isa", std::move(result.ptx)});
  }
  return objects;
}
