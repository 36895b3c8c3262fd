//===- Passes.td - Conversions out of the SSM dialect ------*- tablegen -*-===//
//
// Passes that lower the ssm dialect to upstream dialects.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_CONVERSION_PASSES_TD
#define SSMC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertSSMToGPUPass : Pass<"convert-ssm-to-gpu", "ModuleOp"> {
  let summary = "Lower ssm layer functions to gpu.func kernels and launches";
  let description = [{
    Turns every function that holds ssm ops (a "layer function" on tensors)
    into a host function on memrefs in destination-passing style (the
    returned tensors become trailing output arguments) whose body launches
    the `gpu.func` kernels of each ssm op, built from the op and its
    `#ssm.tile` (run `ssm-tile` first) into `gpu.module @ssm_kernels`, which
    holds the kernels of every layer function of the module.

    The function's boundary moves to buffers first (`bufferization.to_tensor`
    reads of the arguments, `bufferization.materialize_in_destination` writes
    of the results); then a partial conversion lowers each ssm op between
    those buffers, one pattern per op. Every layer function is checked first,
    its ops' tiles and sizes included, so that an error leaves the module
    unchanged.

    Kernels take one pointer per tensor (static `memref<1xT>` arguments marked
    `llvm.noalias`, `llvm.readonly` where read-only and `llvm.align = 16`,
    re-shaped inside with `memref.reinterpret_cast`) followed by the dynamic
    sizes as `index`; with `use-bare-ptr-memref-call-conv` this is the ABI
    the runtime's manifest describes.

    A result updated in place shares its argument's buffer, which becomes
    in-out (`ssm.inout`): a decode step's new state (`ssm.scan_step`), and a
    `ssm.causal_conv1d` final state whose layer function result carries
    `ssm.tied = <index of the argument that is its init>` (channel-last
    only).

    With `tensor-copies` (for targets of sm_90 and newer only), the SSD scan
    kernel stages B and C by TMA tensor copies, one box of a chunk's rows
    each, completing on an mbarrier, instead of cp.async per thread; the
    runtime encodes their tensor maps into a workspace with `ssm.tensor_maps`
    at each launch.
  }];
  let options = [
    Option<"tensorCopies", "tensor-copies", "bool", /*default=*/"false",
           "Stage the SSD scan's B and C by TMA tensor copies (every target "
           "sm_90 or newer)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect"
  ];
}

#endif // SSMC_CONVERSION_PASSES_TD
