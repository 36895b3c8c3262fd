//===- ssm-tune.cpp - Tile candidates of a layer spec ---------------------===//
//
// Writes the candidates spec of a layer spec: the tiles a GPU run times.
//
//   ssm-tune examples/mamba1.json -o tune/mamba1_tune.json
//   ssmc tune/mamba1_tune.json -o tune/          # one binary, all candidates
//   ssmc-tune-run tune/ --candidates tune/mamba1_tune.json \
//       --spec examples/mamba1.json --batch 8 --len 2048 \
//       -o tune/mamba1.json                      # on the GPU: the tuned spec
//   ssmc tune/mamba1.json -o out/
//
//===----------------------------------------------------------------------===//

#include "ssmc/Pipelines/Pipelines.h"
#include "ssmc/Tuning/Tuning.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
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

static cl::OptionCategory tuneCategory("ssm-tune options");

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<layer spec .json>"),
                                      cl::cat(tuneCategory));

static cl::opt<std::string> outputFile("o", cl::Required,
                                       cl::desc("Candidates spec to write"),
                                       cl::value_desc("file"),
                                       cl::cat(tuneCategory));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "ssm-tune") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  cl::HideUnrelatedOptions(tuneCategory);
  cl::ParseCommandLineOptions(argc, argv,
                              "ssm-tune: write the tile candidates of an SSM "
                              "layer spec, for ssmc to compile and "
                              "ssmc-tune-run to time on a GPU\n");
  auto input = llvm::MemoryBuffer::getFile(inputFile);
  if (!input)
    return fail("cannot read '" + inputFile +
                "': " + input.getError().message());
  DialectRegistry registry;
  ssm::registerSSMCDialects(registry);
  MLIRContext ctx(registry);
  llvm::Expected<llvm::json::Value> candidates =
      ssm::buildTuningSpec((*input)->getBuffer(), ctx);
  if (!candidates)
    return fail(inputFile + ": " + llvm::toString(candidates.takeError()));
  StringRef dir = llvm::sys::path::parent_path(outputFile);
  if (std::error_code ec = dir.empty() ? std::error_code()
                                       : llvm::sys::fs::create_directories(dir))
    return fail("cannot create '" + dir + "': " + ec.message());
  std::string error;
  auto file = openOutputFile(outputFile, &error);
  if (!file)
    return fail(error);
  file->os() << llvm::formatv("{0:2}", *candidates) << "\n";
  file->keep();
  return 0;
}
