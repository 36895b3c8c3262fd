//===- CudaDriver.h - the dlopen'ed CUDA driver table -----------*- C++ -*-===//
//
// libssmrt never links libcuda: the first call that needs the GPU loads
// libcuda.so.1 with dlopen and resolves the few entry points below by their
// exact exported names (the `_v2` ones where cuda.h maps a name to them), so
// that the library builds and its host-side checks run on machines without a
// driver. cuda.h is used for types and enums only.
//
//===----------------------------------------------------------------------===//

#ifndef SSMRT_LIB_CUDADRIVER_H
#define SSMRT_LIB_CUDADRIVER_H

#include <cuda.h>

#include <string>

namespace ssmrt::detail {

// X(member, exported symbol) for each driver entry point libssmrt calls.
#define SSMRT_DRIVER_FUNCTIONS(X)                                              \
  X(init, cuInit)                                                              \
  X(getErrorName, cuGetErrorName)                                              \
  X(getErrorString, cuGetErrorString)                                          \
  X(deviceGet, cuDeviceGet)                                                    \
  X(devicePrimaryCtxRetain, cuDevicePrimaryCtxRetain)                          \
  X(ctxGetCurrent, cuCtxGetCurrent)                                            \
  X(ctxSetCurrent, cuCtxSetCurrent)                                            \
  X(ctxPushCurrent, cuCtxPushCurrent_v2)                                       \
  X(ctxPopCurrent, cuCtxPopCurrent_v2)                                         \
  X(ctxSynchronize, cuCtxSynchronize)                                          \
  X(ctxGetDevice, cuCtxGetDevice)                                              \
  X(deviceGetAttribute, cuDeviceGetAttribute)                                  \
  X(occupancyMaxActiveBlocksPerMultiprocessor,                                 \
    cuOccupancyMaxActiveBlocksPerMultiprocessor)                               \
  X(moduleLoadData, cuModuleLoadData)                                          \
  X(moduleUnload, cuModuleUnload)                                              \
  X(moduleGetFunction, cuModuleGetFunction)                                    \
  X(funcSetAttribute, cuFuncSetAttribute)                                      \
  X(launchKernel, cuLaunchKernel)                                              \
  X(memAlloc, cuMemAlloc_v2)                                                   \
  X(memFree, cuMemFree_v2)                                                     \
  X(memsetD8Async, cuMemsetD8Async)                                            \
  X(memcpyHtoDAsync, cuMemcpyHtoDAsync_v2)

/// Entry points only some layers need, null where the driver lacks them:
/// the TMA descriptors of tensor copies (CUDA 12 drivers and newer).
#define SSMRT_OPTIONAL_DRIVER_FUNCTIONS(X)                                     \
  X(tensorMapEncodeTiled, cuTensorMapEncodeTiled)

/// The driver entry points, resolved from libcuda.so.1.
struct CudaDriver {
#define SSMRT_DRIVER_MEMBER(member, symbol)                                    \
  decltype(&::symbol) member = nullptr;
  SSMRT_DRIVER_FUNCTIONS(SSMRT_DRIVER_MEMBER)
  SSMRT_OPTIONAL_DRIVER_FUNCTIONS(SSMRT_DRIVER_MEMBER)
#undef SSMRT_DRIVER_MEMBER

  /// Throws Failure(SSMRT_ERROR_CUDA) "<what>: <CUDA_ERROR_NAME> (<text>)"
  /// unless `result` is CUDA_SUCCESS.
  void check(CUresult result, const std::string &what) const;
};

/// The driver, loaded and initialized (cuInit) once per process on first use.
/// Throws Failure(SSMRT_ERROR_NO_DRIVER) if libcuda.so.1 or an entry point is
/// missing, Failure(SSMRT_ERROR_CUDA) if cuInit failed.
const CudaDriver &cudaDriver();

/// The primary context of device 0, retained on first use and never released,
/// as the CUDA runtime does: a thread that was made current in it never sees
/// it destroyed underneath.
CUcontext primaryContext(const CudaDriver &driver);

} // namespace ssmrt::detail

#endif // SSMRT_LIB_CUDADRIVER_H
