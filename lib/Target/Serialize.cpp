//===- Serialize.cpp - The gpu.module's PTX and cubins ---------*- C++ -*-===//
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
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"

#include <mutex>

using namespace mlir;
using namespace mlir::ssm;

namespace {
/// What one target's serialization produced.
struct TargetObjects {
  std::string chip;
  /// The cubin, or in PTX-only runs the PTX again.
  std::optional<SmallVector<char, 0>> object;
  /// The PTX, from the ISA callback in both kinds of run.
  std::string ptx;
  /// The diagnostics its serialization emitted.
  std::vector<Diagnostic> diagnostics;
};

/// Routes the diagnostics of each thread serializing a target to that
/// target's TargetObjects while it lives.
class TargetDiagnostics {
public:
  TargetDiagnostics(MLIRContext *ctx, MutableArrayRef<TargetObjects> results)
      : results(results), handler(ctx, [this](Diagnostic &diag) {
          std::lock_guard<std::mutex> lock(mutex);
          auto it = targetOfThread.find(llvm::get_threadid());
          if (it == targetOfThread.end())
            return failure();
          this->results[it->second].diagnostics.push_back(std::move(diag));
          return success();
        }) {}

  /// Routes this thread's diagnostics to target `index` until `leave` (which
  /// does not restore an outer route: serializations do not nest).
  void enter(size_t index) {
    std::lock_guard<std::mutex> lock(mutex);
    targetOfThread[llvm::get_threadid()] = index;
  }
  void leave() {
    std::lock_guard<std::mutex> lock(mutex);
    targetOfThread.erase(llvm::get_threadid());
  }

private:
  MutableArrayRef<TargetObjects> results;
  std::mutex mutex;
  DenseMap<uint64_t, size_t> targetOfThread;
  ScopedDiagnosticHandler handler;
};
} // namespace

llvm::Error mlir::ssm::checkToolkit(StringRef toolkitPath, bool binaries) {
  auto missing = [&](StringRef what, StringRef path) {
    return llvm::createStringError(
        "CUDA toolkit '%s' has no %s ('%s'): install it or pass --cuda-path",
        toolkitPath.str().c_str(), what.str().c_str(), path.str().c_str());
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
  // attributes on the module it reads, and translation to LLVM IR may edit
  // it.
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
  {
    TargetDiagnostics diagnostics(ctx, results);
    auto serializeTarget = [&](size_t i) {
      diagnostics.enter(i);
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
      if (!result.object)
        copy.emitError("cannot serialize the kernels for ") << result.chip;
      diagnostics.leave();
    };
    // On the context's thread pool rather than through mlir::parallelFor,
    // whose own diagnostic handler would hide the targets' diagnostics from
    // `diagnostics`.
    if (ctx->isMultithreadingEnabled()) {
      llvm::ThreadPoolTaskGroup tasks(ctx->getThreadPool());
      for (size_t i = 0; i < results.size(); ++i)
        tasks.async(serializeTarget, i);
      tasks.wait();
    } else {
      for (size_t i = 0; i < results.size(); ++i)
        serializeTarget(i);
    }
  }

  // Diagnostics in target order, up to the first target that failed: the
  // later ones mostly repeat its errors (a ptxas option ptxas does not know).
  DiagnosticEngine &engine = ctx->getDiagEngine();
  for (TargetObjects &result : results) {
    for (Diagnostic &diag : result.diagnostics)
      engine.emit(std::move(diag));
    if (!result.object)
      return failure();
  }

  std::vector<GPUObject> objects;
  for (TargetObjects &result : results) {
    if (result.ptx.empty())
      return gpuModule.emitError("no PTX was kept for ") << result.chip;
    if (options.binaries)
      objects.push_back(
          {result.chip, "bin",
           std::string(result.object->begin(), result.object->end())});
    objects.push_back({result.chip, "isa", std::move(result.ptx)});
  }
  return objects;
}
