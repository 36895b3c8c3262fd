//===- Pipelines.h - ssmc pass pipelines and registration -------*- C++ -*-===//
//
// The named `ssm-to-nvvm` pipeline (ssm ops -> GPU binary) and the registry
// of dialects, interfaces and passes that ssm-opt and ssmc share.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_PIPELINES_PIPELINES_H
#define SSMC_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class DialectRegistry;
class OpPassManager;

namespace ssm {

/// Options of the `ssm-to-nvvm` pipeline.
struct SSMToNVVMPipelineOptions
    : public PassPipelineOptions<SSMToNVVMPipelineOptions> {
  PassOptions::ListOption<std::string> chips{
      *this, "chips", llvm::cl::desc("SM targets to compile for"),
      llvm::cl::list_init<std::string>({"sm_80", "sm_90"})};
  PassOptions::Option<int> optLevel{*this, "opt-level",
                                    llvm::cl::desc("LLVM optimization level"),
                                    llvm::cl::init(3)};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Binary format: bin (cubin), isa (PTX), fatbin, or "
                     "none to stop before gpu-module-to-binary"),
      llvm::cl::init("bin")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit", llvm::cl::desc("CUDA toolkit path (ptxas, libdevice)"),
      llvm::cl::init("/usr/local/cuda")};
  /// None by default: ptxas's `--register-usage-level=8` ran the SSD scan
  /// 2-3 % faster on an H200 but the Mamba-1 decode step 7-9 % slower, and
  /// a model's kernels share one ptxas run (bench/HISTORY.md, session 25).
  PassOptions::Option<std::string> ptxasOptions{
      *this, "ptxas-options", llvm::cl::desc("Options passed to ptxas")};
  /// The SSD scan stages B and C by TMA tensor copies: every chip must be
  /// sm_90 or newer (ssmc sets it where they are).
  PassOptions::Option<bool> tensorCopies{
      *this, "tensor-copies",
      llvm::cl::desc("Stage SSD operands by TMA tensor copies (every chip "
                     "sm_90 or newer)"),
      llvm::cl::init(false)};
};

/// Fusion, tiling and conversion of the ssm ops to gpu.func kernels (SSD
/// scans staging by tensor copies where `tensorCopies`).
void buildSSMToGPUPipeline(OpPassManager &pm, bool tensorCopies = false);

/// Lowers the gpu.module kernels to NVVM and attaches the targets, stopping
/// before serialization.
void buildGPUToNVVMPipeline(OpPassManager &pm,
                            const SSMToNVVMPipelineOptions &options);

/// The whole `ssm-to-nvvm` pipeline: the two above, then gpu-module-to-binary
/// unless `format` is `none`.
void buildSSMToNVVMPipeline(OpPassManager &pm,
                            const SSMToNVVMPipelineOptions &options);

/// Registers the `ssm-to-nvvm` pipeline by name.
void registerSSMToNVVMPipeline();

/// Registers the dialects and interfaces ssmc needs, the ssm dialect and the
/// upstream ones it lowers through, with their LLVM IR translations.
void registerSSMCDialects(DialectRegistry &registry);

/// Registers the ssm passes, the upstream passes the pipeline uses, and the
/// pipeline itself.
void registerSSMCPasses();

} // namespace ssm
} // namespace mlir

#endif // SSMC_PIPELINES_PIPELINES_H
