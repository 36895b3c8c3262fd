//===- ssmc.cpp - The ssmc compiler driver ----------------------*- C++ -*-===//
//
// Compiles a JSON layer spec to a GPU binary and its manifest:
//   ssmc spec.json -o out/   ->  out/<name>.fatbin, out/<name>.manifest.json
// `--emit=ssm|gpu|nvvm|ptx` stops early and prints the IR (or PTX). Nothing
// is written to the output directory unless every step succeeded.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Pipelines/Pipelines.h"
#include "ssmc/Spec/Spec.h"
#include "ssmc/Target/Target.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory ssmcCategory("ssmc options");

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<layer spec .json>"),
                                      cl::cat(ssmcCategory));

static cl::opt<std::string> outputDir("o", cl::desc("Output directory"),
                                      cl::value_desc("dir"), cl::init("."),
                                      cl::cat(ssmcCategory));

namespace {
enum class Emit { SSM, GPU, NVVM, PTX, Binary };
} // namespace

static cl::opt<Emit> emit(
    "emit", cl::desc("Stop after a stage and print its output"),
    cl::values(clEnumValN(Emit::SSM, "ssm", "the layer functions (ssm ops)"),
               clEnumValN(Emit::GPU, "gpu",
                          "after fusion, tiling and "
                          "conversion to gpu kernels"),
               clEnumValN(Emit::NVVM, "nvvm", "the kernels lowered to NVVM"),
               clEnumValN(Emit::NVVM, "llvm",
                          "the same: NVVM kernels in the LLVM dialect"),
               clEnumValN(Emit::PTX, "ptx", "the PTX of each target"),
               clEnumValN(Emit::Binary, "bin",
                          "write the fatbin and manifest (default)")),
    cl::init(Emit::Binary), cl::cat(ssmcCategory));

static cl::list<std::string>
    archOverride("arch", cl::desc("SM targets (overrides the spec's arch)"),
                 cl::CommaSeparated, cl::cat(ssmcCategory));

static cl::opt<std::string> cudaPath("cuda-path",
                                     cl::desc("CUDA toolkit (ptxas, "
                                              "fatbinary, libdevice)"),
                                     cl::init("/usr/local/cuda"),
                                     cl::cat(ssmcCategory));

static cl::opt<std::string> ptxasOptions("ptxas-options",
                                         cl::desc("Options passed to ptxas"),
                                         cl::cat(ssmcCategory));

/// Prints "ssmc: error: <message>" and returns failure.
static LogicalResult fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "ssmc") << message << "\n";
  return failure();
}

static LogicalResult fail(llvm::Error error) {
  return fail(llvm::toString(std::move(error)));
}

static LogicalResult
runPipeline(ModuleOp module, TimingScope &timing,
            llvm::function_ref<void(OpPassManager &)> build) {
  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  pm.enableTiming(timing);
  build(pm);
  return pm.run(module);
}

/// Writes `data` to `dir/name` through a temporary file, so a failure never
/// leaves a partial file behind.
static LogicalResult writeOutput(StringRef dir, StringRef name,
                                 StringRef data) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  std::string error;
  auto file = openOutputFile(path, &error);
  if (!file)
    return fail(error);
  file->os() << data;
  file->keep();
  return success();
}

/// Compiles the spec; `timing` times its steps (--mlir-timing).
static LogicalResult compile(MLIRContext &ctx, TimingScope &timing) {
  auto input = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!input)
    return fail("cannot read '" + inputFile +
                "': " + input.getError().message());
  auto spec = ssm::parseSpec((*input)->getBuffer());
  if (!spec)
    return fail(inputFile + ": " + llvm::toString(spec.takeError()));
  // The spec's own archs are checked by parseSpec.
  std::vector<std::string> archs = spec->archs;
  if (!archOverride.empty()) {
    archs.assign(archOverride.begin(), archOverride.end());
    for (auto [i, arch] : llvm::enumerate(archs))
      if (llvm::Error err = ssm::checkArch(arch, ArrayRef(archs).take_front(i)))
        return fail("--arch: " + llvm::toString(std::move(err)));
  }
  if (llvm::Error err = ssm::checkWarpgroupArchs(*spec, archs, "--arch"))
    return fail(inputFile + ": " + llvm::toString(std::move(err)));

  bool serializes = emit == Emit::PTX || emit == Emit::Binary;
  if (serializes)
    if (llvm::Error err = ssm::checkToolkit(cudaPath, emit == Emit::Binary))
      return fail(std::move(err));

  // The spec's checks should leave nothing for the verifier; it backs them
  // up, located at the layer, before anything is printed or lowered.
  OwningOpRef<ModuleOp> module = ssm::buildLayerModule(*spec, ctx);
  if (!module || failed(verify(*module)))
    return failure();
  if (emit == Emit::SSM) {
    module->print(llvm::outs());
    return success();
  }
  // Where every target has TMA, the SSD scan stages B and C by tensor copies.
  bool tensorCopies = ssm::allHaveTensorCopies(archs);
  TimingScope toGPU = timing.nest("ssm to gpu");
  if (failed(runPipeline(*module, toGPU, [&](OpPassManager &pm) {
        ssm::buildSSMToGPUPipeline(pm, tensorCopies);
      })))
    return failure();
  toGPU.stop();
  if (emit == Emit::GPU) {
    module->print(llvm::outs());
    return success();
  }

  ssm::SSMToNVVMPipelineOptions options;
  options.chips = archs;
  options.tensorCopies = tensorCopies;
  TimingScope toNVVM = timing.nest("gpu to nvvm");
  if (failed(runPipeline(*module, toNVVM, [&](OpPassManager &pm) {
        ssm::buildGPUToNVVMPipeline(pm, options);
      })))
    return failure();
  toNVVM.stop();
  if (emit == Emit::NVVM) {
    module->print(llvm::outs());
    return success();
  }

  ssm::SerializeOptions serializeOptions;
  serializeOptions.toolkitPath = cudaPath;
  serializeOptions.ptxasOptions = ptxasOptions;
  serializeOptions.binaries = emit == Emit::Binary;
  TimingScope serializing = timing.nest("serialize");
  auto objects = ssm::serializeGPUModule(*module, serializeOptions);
  serializing.stop();
  if (failed(objects))
    return failure();
  if (emit == Emit::PTX) {
    for (const ssm::GPUObject &object : *objects)
      llvm::outs() << "// ---- " << object.chip << "\n" << object.data;
    return success();
  }

  // One cubin per target, plus the PTX that later GPUs can JIT.
  std::vector<ssm::GPUObject> ptx, images;
  for (ssm::GPUObject &object : *objects)
    (object.format == "isa" ? ptx : images).push_back(std::move(object));
  const ssm::GPUObject *forward = ssm::selectForwardPTX(ptx);
  if (!forward)
    return fail("the GPU binary holds no PTX");
  images.push_back(*forward);
  TimingScope bundling = timing.nest("fatbinary");
  auto fatbin = ssm::buildFatbin(images, cudaPath);
  bundling.stop();
  if (!fatbin)
    return fail(fatbin.takeError());
  std::string binaryName = spec->name + ".fatbin";
  auto manifest = ssm::buildManifest(*module, binaryName, archs);
  if (!manifest)
    return fail(manifest.takeError());

  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
    return fail("cannot create '" + outputDir + "': " + ec.message());
  std::string manifestText;
  llvm::raw_string_ostream(manifestText)
      << llvm::formatv("{0:2}", *manifest) << "\n";
  if (failed(writeOutput(outputDir, binaryName, *fatbin)) ||
      failed(
          writeOutput(outputDir, spec->name + ".manifest.json", manifestText)))
    return failure();
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  // --help lists ssmc's own options; LLVM's and MLIR's (backend flags,
  // --mlir-print-*) are hidden but still accepted.
  cl::HideUnrelatedOptions(ssmcCategory);
  cl::ParseCommandLineOptions(argc, argv,
                              "ssmc: compile an SSM layer spec to a GPU "
                              "binary and a launch manifest\n");
  DialectRegistry registry;
  ssm::registerSSMCDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  DefaultTimingManager timingManager;
  applyDefaultTimingManagerCLOptions(timingManager);
  TimingScope timing = timingManager.getRootScope();
  return failed(compile(ctx, timing)) ? 1 : 0;
}
