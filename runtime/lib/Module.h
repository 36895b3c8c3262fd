//===- Module.h - modules, layers and their driver state --------*- C++ -*-===//
//
// The objects behind the C handles. A module owns its parsed manifest, a copy
// of the kernel image and one layer object per manifest layer. Driver state
// (the CUmodule, each launch's CUfunction, each layer's workspaces) is created
// by the first launch, so modules that are only inspected never need a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef SSMRT_LIB_MODULE_H
#define SSMRT_LIB_MODULE_H

#include "CudaDriver.h"
#include "Manifest.h"

#include "ssmrt/ssmrt.h"

#include <cstddef>
#include <mutex>
#include <vector>

namespace ssmrt::detail {

/// A device scratch buffer of a layer, grown on demand.
struct Workspace {
  CUdeviceptr pointer = 0;
  std::size_t bytes = 0;
  /// The tensor maps last written to it.
  std::vector<unsigned char> tensorMaps;
};

} // namespace ssmrt::detail

/// The object behind an ssmrt_layer handle.
struct ssmrt_layer_st {
  ssmrt_layer_st(ssmrt_module_st &module, const ssmrt::detail::LayerDesc &desc);

  /// Validates the tensors, then loads the module if needed, grows the
  /// workspaces and enqueues every kernel of the layer on `stream`.
  void launch(const ssmrt_tensor *tensors, int32_t numTensors, CUstream stream);
  /// Looks up the CUfunction of each launch not resolved yet. Needs
  /// module.mutex.
  void resolveFunctions(const ssmrt::detail::CudaDriver &driver);
  /// Reallocates each workspace smaller than its entry of `bytes`, zeroing
  /// the `zeroed` ones on `stream`. Needs module.mutex.
  void growWorkspaces(const ssmrt::detail::CudaDriver &driver,
                      const std::vector<std::size_t> &bytes, CUstream stream);
  /// Encodes the workspaces' tensor maps of `tensors` and copies them in on
  /// `stream` where they changed. Needs module.mutex.
  void writeTensorMaps(const ssmrt::detail::CudaDriver &driver,
                       const ssmrt_tensor *tensors, CUstream stream);
  /// Queries, once, what the split and workers rules need: the SM count of
  /// the module's device and how many blocks of each one's deciding launch an
  /// SM holds. Needs module.mutex and the functions resolved.
  void queryOccupancy(const ssmrt::detail::CudaDriver &driver);

  ssmrt_module_st &module;
  const ssmrt::detail::LayerDesc &desc;
  /// The CUfunction of each launch, null until resolved; guarded by
  /// module.mutex.
  std::vector<CUfunction> functions;
  /// One per manifest workspace; guarded by module.mutex.
  std::vector<ssmrt::detail::Workspace> workspaces;
  /// queryOccupancy's answers, 0 until asked (blocksPerSM has one per
  /// launch, asked for the deciding ones); guarded by module.mutex.
  int64_t sms = 0;
  std::vector<int64_t> blocksPerSM;
};

/// The object behind an ssmrt_module handle.
struct ssmrt_module_st {
  ssmrt_module_st(ssmrt::detail::Manifest manifest, std::vector<char> image);
  /// Releases the driver state, ignoring failures.
  ~ssmrt_module_st();
  ssmrt_module_st(const ssmrt_module_st &) = delete;
  ssmrt_module_st &operator=(const ssmrt_module_st &) = delete;

  /// Makes the module's context current on this thread, loading the image
  /// into the current (or primary) context on first use. Needs `mutex`.
  void bind(const ssmrt::detail::CudaDriver &driver);
  /// Waits for the module's work, then frees the workspaces and unloads the
  /// image in the module's context, if the driver was ever touched, and
  /// throws Failure(SSMRT_ERROR_CUDA) for the first step that failed. Each
  /// step runs once the context is current; if it cannot be made so, nothing
  /// is freed (the driver state leaks, as nothing could free it).
  void release();

  const ssmrt::detail::Manifest manifest;
  /// The kernel image and a trailing NUL, which cuModuleLoadData needs when
  /// the image is PTX text.
  std::vector<char> image;
  /// One per manifest layer, never reallocated: handles point into it.
  std::vector<ssmrt_layer_st> layers;

  /// Serializes launches; guards the driver state below and in the layers.
  std::mutex mutex;
  /// The context the image is loaded into; null until the first load.
  CUcontext context = nullptr;
  CUmodule cuModule = nullptr;
};

#endif // SSMRT_LIB_MODULE_H
