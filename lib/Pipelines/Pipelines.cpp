//===- Pipelines.cpp - ssmc pass pipelines and registration -----*- C++ -*-===//
//
// The `ssm-to-nvvm` pipeline, modelled on upstream's gpu-lower-to-nvvm
// pipeline, and the curated registry shared by ssm-opt and ssmc.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Pipelines/Pipelines.h"

#include "ssmc/Conversion/Passes.h"
#include "ssmc/Dialect/SSM/Passes.h"
#include "ssmc/Dialect/SSM/SSMDialect.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::ssm::buildSSMToGPUPipeline(OpPassManager &pm, bool tensorCopies) {
  OpPassManager &funcPm = pm.nest<func::FuncOp>();
  // Imported IR may carry zero initial states or unused last states.
  funcPm.addPass(createCanonicalizerPass());
  funcPm.addPass(createSSMFuseDiscretizePass());
  funcPm.addPass(createSSMFuseGatingPass());
  funcPm.addPass(createSSMFuseConvPass());
  funcPm.addPass(createSSMTilePass());
  pm.addPass(createConvertSSMToGPUPass({tensorCopies}));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::ssm::buildGPUToNVVMPipeline(
    OpPassManager &pm, const SSMToNVVMPipelineOptions &options) {
  for (const std::string &chip : options.chips) {
    GpuNVVMAttachTargetOptions target;
    target.chip = chip;
    target.optLevel = options.optLevel;
    // Tensor copies to shared::cta need PTX 8.6.
    if (options.tensorCopies)
      target.features = "+ptx86";
    pm.addPass(createGpuNVVMAttachTarget(target));
  }
  OpPassManager &gpuPm = pm.nest<gpu::GPUModuleOp>();
  gpuPm.addPass(createLowerAffinePass());
  gpuPm.addPass(createSCFToControlFlowPass());
  gpuPm.addPass(createConvertNVGPUToNVVMPass());
  ConvertGpuOpsToNVVMOpsOptions toNVVM;
  toNVVM.useBarePtrCallConv = true;
  gpuPm.addPass(createConvertGpuOpsToNVVMOps(toNVVM));
  // NVVM ops without an LLVM intrinsic (wgmma.mma_async) become inline PTX.
  gpuPm.addPass(createConvertNVVMToLLVMPass());
  gpuPm.addPass(createCanonicalizerPass());
  gpuPm.addPass(createCSEPass());
  gpuPm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::ssm::buildSSMToNVVMPipeline(
    OpPassManager &pm, const SSMToNVVMPipelineOptions &options) {
  buildSSMToGPUPipeline(pm, options.tensorCopies);
  buildGPUToNVVMPipeline(pm, options);
  if (options.format == "none")
    return;
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = options.toolkit;
  binary.cmdOptions = options.ptxasOptions;
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void mlir::ssm::registerSSMToNVVMPipeline() {
  PassPipelineRegistration<SSMToNVVMPipelineOptions>(
      "ssm-to-nvvm",
      "Fuse, tile and lower ssm layer functions to NVVM kernels and a GPU "
      "binary",
      buildSSMToNVVMPipeline);
}

void mlir::ssm::registerSSMCDialects(DialectRegistry &registry) {
  registry.insert<ssm::SSMDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  func::FuncDialect, gpu::GPUDialect, LLVM::LLVMDialect,
                  math::MathDialect, memref::MemRefDialect, nvgpu::NVGPUDialect,
                  NVVM::NVVMDialect, scf::SCFDialect, tensor::TensorDialect,
                  ub::UBDialect, vector::VectorDialect>();
  // Lowering to LLVM through the ConvertToLLVM interfaces.
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  vector::registerConvertVectorToLLVMInterface(registry);
  // Serialization: without these gpu-module-to-binary cannot translate.
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerAllGPUToLLVMIRTranslations(registry);
}

void mlir::ssm::registerSSMCPasses() {
  registerSSMPasses();
  registerSSMConversionPasses();
  // The upstream passes of the ssm-to-nvvm pipeline, so that its steps can
  // be run one by one.
  registerCanonicalizerPass();
  registerCSEPass();
  registerLowerAffinePass();
  registerSCFToControlFlowPass();
  registerConvertNVGPUToNVVMPass();
  registerConvertGpuOpsToNVVMOpsPass();
  registerConvertNVVMToLLVMPass();
  registerReconcileUnrealizedCastsPass();
  registerGpuNVVMAttachTargetPass();
  registerGpuModuleToBinaryPass();
  registerSSMToNVVMPipeline();
}
