//===- CudaDriver.cpp - The CUDA driver, loaded at run time ---------------===//

#include "CudaDriver.h"

#include <dlfcn.h>

namespace ssmc::gpu {

static Driver &driverTable() {
  static Driver table;
  return table;
}

const Driver &driver() { return driverTable(); }

void check(CUresult result, const std::string &what) {
  if (result == CUDA_SUCCESS)
    return;
  const char *name = nullptr;
  if (driver().getErrorName(result, &name) != CUDA_SUCCESS || !name)
    name = "unknown CUresult";
  throw CudaError(what + ": " + name);
}

std::string openDevice() {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return std::string("cannot load libcuda.so.1: ") + dlerror();
  Driver &table = driverTable();
#define SSMC_GPU_RESOLVE(member, symbol)                                       \
  table.member =                                                               \
      reinterpret_cast<decltype(table.member)>(dlsym(library, #symbol));       \
  if (!table.member)                                                           \
    return "libcuda.so.1 lacks " #symbol;
  SSMC_GPU_DRIVER_FUNCTIONS(SSMC_GPU_RESOLVE)
#undef SSMC_GPU_RESOLVE
  try {
    check(table.init(0), "cuInit");
    int count = 0;
    check(table.deviceGetCount(&count), "cuDeviceGetCount");
    if (count == 0)
      return "the CUDA driver sees no GPU";
    CUdevice device = 0;
    check(table.deviceGet(&device, 0), "cuDeviceGet(0)");
    CUcontext context = nullptr;
    check(table.devicePrimaryCtxRetain(&context, device),
          "cuDevicePrimaryCtxRetain");
    check(table.ctxSetCurrent(context), "cuCtxSetCurrent");
  } catch (const CudaError &error) {
    return error.what();
  }
  return "";
}

std::string deviceName() {
  CUdevice device = 0;
  check(driver().deviceGet(&device, 0), "cuDeviceGet(0)");
  char name[256] = {};
  check(driver().deviceGetName(name, sizeof(name), device), "cuDeviceGetName");
  return name;
}

std::string deviceArch() {
  CUdevice device = 0;
  check(driver().deviceGet(&device, 0), "cuDeviceGet(0)");
  int major = 0, minor = 0;
  check(driver().deviceGetAttribute(
            &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
        "cuDeviceGetAttribute");
  check(driver().deviceGetAttribute(
            &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
        "cuDeviceGetAttribute");
  return "sm_" + std::to_string(major) + std::to_string(minor);
}

bool runsOn(const std::vector<std::string> &archs, const std::string &device) {
  for (const std::string &arch : archs)
    if (arch.back() != 'a' || arch.substr(0, arch.size() - 1) == device)
      return true;
  return false;
}

std::string driverVersion() {
  int version = 0;
  check(driver().driverGetVersion(&version), "cuDriverGetVersion");
  return std::to_string(version / 1000) + "." +
         std::to_string(version % 1000 / 10);
}

} // namespace ssmc::gpu
