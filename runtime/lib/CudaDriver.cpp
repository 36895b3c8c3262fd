//===- CudaDriver.cpp - the dlopen'ed CUDA driver table ---------*- C++ -*-===//
//
// Loading happens once, under std::call_once; its outcome (the table or the
// failure) is kept, so every later call reports the same error cheaply. The
// library handle is never closed: the driver stays loaded for the process.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

#include "Failure.h"

#include <dlfcn.h>

#include <mutex>
#include <optional>
#include <string>

namespace ssmrt::detail {
namespace {

/// The outcome of loading the driver.
struct LoadedDriver {
  CudaDriver driver;
  std::optional<Failure> failure;
};

LoadedDriver load() {
  LoadedDriver loaded;
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    loaded.failure.emplace(SSMRT_ERROR_NO_DRIVER,
                           std::string("no CUDA driver found (libcuda.so.1: ") +
                               dlerror() + ")");
    return loaded;
  }
  CudaDriver &driver = loaded.driver;
#define SSMRT_RESOLVE(member, symbol)                                          \
  driver.member =                                                              \
      reinterpret_cast<decltype(driver.member)>(dlsym(library, #symbol));      \
  if (!driver.member) {                                                        \
    loaded.failure.emplace(SSMRT_ERROR_NO_DRIVER,                              \
                           "CUDA driver libcuda.so.1 lacks " #symbol);         \
    return loaded;                                                             \
  }
  SSMRT_DRIVER_FUNCTIONS(SSMRT_RESOLVE)
#undef SSMRT_RESOLVE
#define SSMRT_RESOLVE_OPTIONAL(member, symbol)                                 \
  driver.member =                                                              \
      reinterpret_cast<decltype(driver.member)>(dlsym(library, #symbol));
  SSMRT_OPTIONAL_DRIVER_FUNCTIONS(SSMRT_RESOLVE_OPTIONAL)
#undef SSMRT_RESOLVE_OPTIONAL
  try {
    driver.check(driver.init(0), "cuInit");
  } catch (const Failure &failure) {
    loaded.failure = failure;
  }
  return loaded;
}

} // namespace

void CudaDriver::check(CUresult result, const std::string &what) const {
  if (result == CUDA_SUCCESS)
    return;
  const char *name = nullptr;
  const char *text = nullptr;
  if (getErrorName(result, &name) != CUDA_SUCCESS || !name)
    name = "unknown CUresult";
  if (getErrorString(result, &text) != CUDA_SUCCESS || !text)
    text = "no description";
  fail(SSMRT_ERROR_CUDA, what + ": " + name + " (" + text + ")");
}

const CudaDriver &cudaDriver() {
  static std::once_flag once;
  static LoadedDriver loaded;
  std::call_once(once, [] { loaded = load(); });
  if (loaded.failure)
    throw *loaded.failure;
  return loaded.driver;
}

CUcontext primaryContext(const CudaDriver &driver) {
  // A mutex rather than call_once, so that a failed retain is retried.
  static std::mutex mutex;
  static CUcontext context = nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (!context) {
    CUdevice device = 0;
    driver.check(driver.deviceGet(&device, 0), "cuDeviceGet(0)");
    CUcontext retained = nullptr;
    driver.check(driver.devicePrimaryCtxRetain(&retained, device),
                 "cuDevicePrimaryCtxRetain(device 0)");
    context = retained;
  }
  return context;
}

} // namespace ssmrt::detail
