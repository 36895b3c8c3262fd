//===- GpuTestMain.cpp - The GPU test binaries' main ----------------------===//

#include "GpuTestMain.h"

#include <filesystem>
#include <system_error>

namespace ssmc::gpu {

int runGpuTestSuite(int argc, char **argv, const GpuTestSuite &suite) {
  auto usage = [&] {
    std::fprintf(stderr,
                 "usage: %s [--quick] [--require-gpu] [--specs DIR] "
                 "[--only TEXT] KERNEL_DIR\n"
                 "  KERNEL_DIR   where build_kernels.sh put the .fatbin and "
                 ".manifest.json files\n"
                 "  --specs DIR  the specs they were compiled from (default "
                 "%s); only their %s layers run\n"
                 "  --only TEXT  only the spec files whose name contains TEXT\n"
                 "  --quick      small shapes only (%s), for "
                 "compute-sanitizer\n"
                 "  --require-gpu  exit 2 instead of 0 when there is no GPU\n",
                 argv[0], SSMC_GPU_TEST_SPECS_DIR, suite.layers,
                 suite.quickShapes);
    return 2;
  };
  Options options;
  options.specDir = SSMC_GPU_TEST_SPECS_DIR;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick")
      options.quick = true;
    else if (arg == "--require-gpu")
      options.requireGpu = true;
    else if ((arg == "--specs" || arg == "--only") && i + 1 < argc)
      (arg == "--specs" ? options.specDir : options.only) = argv[++i];
    else if (arg[0] != '-' && options.kernelDir.empty())
      options.kernelDir = arg;
    else
      return usage();
  }
  if (options.kernelDir.empty())
    return usage();
  // Checked before the device opens, so that a mistyped path fails the same
  // way with or without a GPU.
  for (const std::string *dir : {&options.specDir, &options.kernelDir}) {
    std::error_code error;
    if (!std::filesystem::is_directory(*dir, error)) {
      std::fprintf(stderr, "error: %s is not a directory\n", dir->c_str());
      return 2;
    }
  }

  const std::string noGpu = openDevice();
  if (!noGpu.empty()) {
    std::printf("no CUDA driver/GPU found: GPU tests skipped (%s)\n",
                noGpu.c_str());
    return options.requireGpu ? 2 : 0;
  }
  std::printf("%s on %s (CUDA driver %s), kernels in %s%s\n"
              "error = max over elements of (|gpu - ref| - r*|ref|) / mag, "
              "shown as error/tolerance\n",
              suite.title, deviceName().c_str(), driverVersion().c_str(),
              options.kernelDir.c_str(), options.quick ? ", quick" : "");

  Tally tally;
  try {
    for (const std::string &path : listSpecs(options.specDir))
      if (std::filesystem::path(path).filename().string().find(options.only) !=
          std::string::npos)
        suite.runSpec(path, options, tally);
  } catch (const FatalCudaError &) {
    std::printf("stopping: the CUDA context is unusable after that error\n");
  }
  std::printf("%d passed, %d failed\n", tally.passed, tally.failed);
  return tally.failed ? 1 : 0;
}

} // namespace ssmc::gpu
