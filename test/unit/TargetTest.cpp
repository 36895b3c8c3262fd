//===- TargetTest.cpp - Tests of the GPU binary's contents ----------------===//
//
// Which PTX ssmc bundles beside the cubins for GPUs newer than its targets,
// what the serializer and the manifest writer refuse, and what a CUDA
// toolkit must hold.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Target/Target.h"
#include "ssmc/Conversion/Passes.h"
#include "ssmc/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::ssm;

namespace {

std::vector<GPUObject> ptxOf(std::initializer_list<const char *> chips) {
  std::vector<GPUObject> objects;
  for (const char *chip : chips)
    objects.push_back({chip, "isa", std::string(".target ") + chip});
  return objects;
}

TEST(TargetTest, ForwardPTXIsTheNewestTargets) {
  std::vector<GPUObject> ptx = ptxOf({"sm_90", "sm_80", "sm_86"});
  ASSERT_NE(selectForwardPTX(ptx), nullptr);
  EXPECT_EQ(selectForwardPTX(ptx)->chip, "sm_90");
}

TEST(TargetTest, ForwardPTXIsPortable) {
  // sm_90a PTX runs on sm_90 alone: of one SM, the portable PTX is kept.
  std::vector<GPUObject> ptx = ptxOf({"sm_80", "sm_90a", "sm_90"});
  EXPECT_EQ(selectForwardPTX(ptx)->chip, "sm_90");
  // Where the arch-specific one is the only PTX of the newest SM, it is
  // still the newest.
  ptx = ptxOf({"sm_90a", "sm_80"});
  EXPECT_EQ(selectForwardPTX(ptx)->chip, "sm_90a");
}

TEST(TargetTest, NoForwardPTXWithoutPTX) {
  EXPECT_EQ(selectForwardPTX({}), nullptr);
}

/// libssmrt binds a dynamic dimension to B (the leading one) or L: a
/// tensor with a third lowers, but the manifest cannot describe it.
TEST(TargetTest, ManifestTakesOnlyBatchAndLengthDynamic) {
  DialectRegistry registry;
  registerSSMCDialects(registry);
  MLIRContext ctx(registry);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(R"mlir(
    func.func @norm(%y: tensor<?x?x?x64xf32>, %w: tensor<64xf32>)
        -> tensor<?x?x?x64xf32> {
      %o = ssm.rms_norm_gated %y weight %w group_size = 64 eps = 1.0e-05
          : (tensor<?x?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x?x64xf32>
      return %o : tensor<?x?x?x64xf32>
    })mlir",
                                                             &ctx);
  ASSERT_TRUE(module);
  PassManager pm(&ctx);
  pm.addPass(createConvertSSMToGPUPass());
  ASSERT_TRUE(succeeded(pm.run(*module)));
  llvm::Expected<llvm::json::Value> manifest =
      buildManifest(*module, "norm.fatbin", {"sm_90"});
  ASSERT_FALSE(manifest);
  EXPECT_EQ(llvm::toString(manifest.takeError()),
            "layer 'norm': layer argument 0 has a dynamic dimension besides "
            "the batch and the sequence length");
}

/// Serializes `source` (PTX only) and returns the diagnostics it gave.
std::string serializeErrors(const char *source) {
  DialectRegistry registry;
  registerSSMCDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &ctx);
  if (!module)
    return "<parse error>";
  std::string errors;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    errors += diag.str();
    return success();
  });
  SerializeOptions options;
  options.binaries = false;
  EXPECT_TRUE(failed(serializeGPUModule(*module, options)));
  return errors;
}

TEST(TargetTest, SerializeNeedsOneGPUModule) {
  EXPECT_EQ(serializeErrors("module {}"),
            "expected one gpu.module to serialize, found 0");
  EXPECT_EQ(serializeErrors(R"mlir(
    gpu.module @a [#nvvm.target<chip = "sm_90">] {}
    gpu.module @b [#nvvm.target<chip = "sm_90">] {})mlir"),
            "expected one gpu.module to serialize, found 2");
}

TEST(TargetTest, SerializeNeedsNVVMTargets) {
  EXPECT_EQ(serializeErrors("gpu.module @a {}"),
            "gpu.module has no target to serialize for");
  EXPECT_EQ(serializeErrors(R"mlir(
    gpu.module @a [#nvvm.target<chip = "sm_90">, #rocdl.target] {})mlir"),
            "gpu.module has a non-NVVM target #rocdl.target");
}

TEST(TargetTest, ToolkitNeedsLibdevicePtxasAndFatbinary) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("ssmc-toolkit", dir));
  llvm::SmallString<128> libdevice(dir);
  llvm::sys::path::append(libdevice, "nvvm", "libdevice");
  auto error = [&](bool binaries) {
    return llvm::toString(checkToolkit(dir, binaries));
  };
  EXPECT_NE(error(false).find("has no libdevice"), std::string::npos);
  ASSERT_FALSE(llvm::sys::fs::create_directories(libdevice));
  llvm::sys::path::append(libdevice, "libdevice.10.bc");
  std::error_code ec;
  llvm::raw_fd_ostream(libdevice, ec) << "";
  ASSERT_FALSE(ec);
  // PTX alone needs libdevice; a binary also ptxas and fatbinary.
  EXPECT_EQ(error(false), "");
  EXPECT_NE(error(true).find("has no ptxas"), std::string::npos);
  llvm::SmallString<128> bin(dir);
  llvm::sys::path::append(bin, "bin");
  ASSERT_FALSE(llvm::sys::fs::create_directories(bin));
  for (const char *tool : {"ptxas", "fatbinary"}) {
    llvm::SmallString<128> path(bin);
    llvm::sys::path::append(path, tool);
    llvm::raw_fd_ostream(path, ec) << "";
    ASSERT_FALSE(ec);
    ASSERT_FALSE(llvm::sys::fs::setPermissions(
        path, llvm::sys::fs::all_exe | llvm::sys::fs::owner_read));
    if (StringRef(tool) == "ptxas")
      EXPECT_NE(error(true).find("has no fatbinary"), std::string::npos);
  }
  EXPECT_EQ(error(true), "");
  llvm::sys::fs::remove_directories(dir);
}

} // namespace
