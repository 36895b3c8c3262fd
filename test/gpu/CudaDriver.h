//===- CudaDriver.h - The CUDA driver, loaded at run time -------*- C++ -*-===//
//
// The CUDA driver entry points the GPU tests and benchmarks call, loaded with
// dlopen as libssmrt does, so that the binaries build without libcuda and
// report "no GPU" instead of failing to start; the device; and device buffers.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_TEST_GPU_CUDADRIVER_H
#define SSMC_TEST_GPU_CUDADRIVER_H

#include <cuda.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ssmc::gpu {

// X(member, exported symbol) for each driver entry point used here; the
// `_v2` symbols are the ones cuda.h maps the plain names to.
#define SSMC_GPU_DRIVER_FUNCTIONS(X)                                           \
  X(init, cuInit)                                                              \
  X(getErrorName, cuGetErrorName)                                              \
  X(driverGetVersion, cuDriverGetVersion)                                      \
  X(deviceGetCount, cuDeviceGetCount)                                          \
  X(deviceGet, cuDeviceGet)                                                    \
  X(deviceGetName, cuDeviceGetName)                                            \
  X(deviceGetAttribute, cuDeviceGetAttribute)                                  \
  X(devicePrimaryCtxRetain, cuDevicePrimaryCtxRetain)                          \
  X(ctxSetCurrent, cuCtxSetCurrent)                                            \
  X(ctxSynchronize, cuCtxSynchronize)                                          \
  X(memAlloc, cuMemAlloc_v2)                                                   \
  X(memFree, cuMemFree_v2)                                                     \
  X(memcpyHtoD, cuMemcpyHtoD_v2)                                               \
  X(memcpyDtoH, cuMemcpyDtoH_v2)                                               \
  X(memcpyDtoD, cuMemcpyDtoD_v2)                                               \
  X(memsetD8, cuMemsetD8_v2)                                                   \
  X(eventCreate, cuEventCreate)                                                \
  X(eventDestroy, cuEventDestroy_v2)                                           \
  X(eventRecord, cuEventRecord)                                                \
  X(eventSynchronize, cuEventSynchronize)                                      \
  X(eventElapsedTime, cuEventElapsedTime_v2)

/// The driver entry points, resolved from libcuda.so.1.
struct Driver {
#define SSMC_GPU_DRIVER_MEMBER(member, symbol)                                 \
  decltype(&::symbol) member = nullptr;
  SSMC_GPU_DRIVER_FUNCTIONS(SSMC_GPU_DRIVER_MEMBER)
#undef SSMC_GPU_DRIVER_MEMBER
};

/// A failed driver call.
class CudaError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The driver table; filled by a successful openDevice().
const Driver &driver();

/// Throws CudaError "<what>: <CUDA_ERROR_NAME>" unless `result` is success.
void check(CUresult result, const std::string &what);

/// Loads and initializes the driver and makes the primary context of device 0
/// current, so that libssmrt launches in the context the buffers live in. The
/// context stays retained for the life of the process. Returns "" on success,
/// else why no GPU can be used.
std::string openDevice();

/// The name of device 0, e.g. "NVIDIA H100 80GB HBM3".
std::string deviceName();

/// The SM of device 0, e.g. "sm_90".
std::string deviceArch();

/// Whether a binary built for `archs` runs on `device` ("sm_90"): any
/// arch but one whose every target is arch-specific ("sm_90a") for another
/// SM; those run on that SM only.
bool runsOn(const std::vector<std::string> &archs, const std::string &device);

/// The CUDA version the driver supports, as "13.0".
std::string driverVersion();

/// An owned device allocation.
class DeviceBuffer {
public:
  explicit DeviceBuffer(size_t bytes) : bytes(bytes) {
    check(driver().memAlloc(&ptr, std::max<size_t>(bytes, 1)),
          "cuMemAlloc(" + std::to_string(bytes) + " bytes)");
  }
  DeviceBuffer(DeviceBuffer &&other) noexcept
      : ptr(std::exchange(other.ptr, 0)), bytes(other.bytes) {}
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(DeviceBuffer &&) = delete;
  ~DeviceBuffer() {
    if (ptr)
      driver().memFree(ptr);
  }

  CUdeviceptr get() const { return ptr; }
  size_t size() const { return bytes; }

  /// Copies `data` (exactly size() bytes) to the device.
  void upload(const std::vector<uint8_t> &data) const {
    check(driver().memcpyHtoD(ptr, data.data(), bytes), "cuMemcpyHtoD");
  }

  /// Copies the whole buffer to the host.
  std::vector<uint8_t> download() const {
    std::vector<uint8_t> data(bytes);
    check(driver().memcpyDtoH(data.data(), ptr, bytes), "cuMemcpyDtoH");
    return data;
  }

private:
  CUdeviceptr ptr = 0;
  size_t bytes;
};

} // namespace ssmc::gpu

#endif // SSMC_TEST_GPU_CUDADRIVER_H
