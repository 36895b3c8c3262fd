//===- GpuTestMain.h - The GPU test binaries' main --------------*- C++ -*-===//
//
// The command line, device set-up and spec-file loop that the GPU test
// binaries share; each supplies how it runs one spec file.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_TEST_GPU_GPUTESTMAIN_H
#define SSMC_TEST_GPU_GPUTESTMAIN_H

#include "Compare.h"
#include "CudaDriver.h"
#include "LayerTensors.h"
#include "SpecReader.h"

#include "ssmrt/ssmrt.hpp"

#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ssmc::gpu {

/// Command-line options of a GPU test binary.
struct Options {
  std::string kernelDir;
  /// test/gpu/specs unless --specs names another directory.
  std::string specDir;
  /// Only the specs whose file name contains this.
  std::string only;
  /// Small shapes only, for compute-sanitizer.
  bool quick = false;
  /// No GPU is an error (exit 2), not a skip.
  bool requireGpu = false;
};

/// Runs `runLayer(layer, spec, options, tally)` on each layer of one kind
/// (`layers`, a member of SpecFile) in the spec file at `path`, after loading
/// its module and checking the layer against its manifest. Files without
/// such layers belong to another test binary and are skipped.
template <typename LayerSpec, typename RunLayer>
void runSpecLayers(const std::string &path, const Options &options,
                   Tally &tally, std::vector<LayerSpec> SpecFile::*layers,
                   RunLayer runLayer) {
  const std::string file = std::filesystem::path(path).filename().string();
  SpecFile spec;
  try {
    spec = readSpec(path);
  } catch (const std::exception &error) {
    std::printf("FAIL %s  %s\n", file.c_str(), error.what());
    ++tally.failed;
    return;
  }
  if ((spec.*layers).empty())
    return;
  if (const std::string device = deviceArch(); !runsOn(spec.archs, device)) {
    std::printf("SKIP %s  built for %s only, the GPU is %s\n", file.c_str(),
                spec.archs.front().c_str(), device.c_str());
    return;
  }
  const std::string manifest = (std::filesystem::path(options.kernelDir) /
                                (spec.name + ".manifest.json"))
                                   .string();
  std::optional<ssmrt::Module> module;
  guarded(file, tally, [&] { module = ssmrt::Module::load(manifest); });
  if (!module)
    return;
  for (const LayerSpec &layerSpec : spec.*layers) {
    std::optional<ssmrt::Layer> layer;
    guarded(spec.name + "/" + layerSpec.name, tally, [&] {
      ssmrt::Layer found = module->layer(layerSpec.name);
      checkLayer(found, layerSpec);
      layer = found;
    });
    if (layer)
      runLayer(*layer, layerSpec, options, tally);
  }
  // A fault the launches left behind surfaces when the module is released.
  guarded(file + " (release)", tally, [&] { module->close(); });
}

/// What distinguishes one GPU test binary: its title, the layers it runs and
/// its --quick shapes (for the usage text), and how it runs one spec file.
struct GpuTestSuite {
  const char *title;
  const char *layers;
  const char *quickShapes;
  std::function<void(const std::string &path, const Options &, Tally &)>
      runSpec;
};

/// Parses the command line, opens the device, runs the suite on every spec
/// file that matches and prints `N passed, N failed`; returns the exit code.
int runGpuTestSuite(int argc, char **argv, const GpuTestSuite &suite);

} // namespace ssmc::gpu

#endif // SSMC_TEST_GPU_GPUTESTMAIN_H
