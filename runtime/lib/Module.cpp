//===- Module.cpp - modules, layers and their driver state ------*- C++ -*-===//
//
// A launch validates its tensors on the host first (Shapes.h) and only then
// loads the driver. Under the module's mutex it binds the context, resolves
// the kernels, grows the workspaces and enqueues the kernels. Kernel
// parameters follow the manifest: 8-byte device pointers for tensors and
// workspaces, int64_t values for symbols.
//
//===----------------------------------------------------------------------===//

#include "Module.h"

#include "Failure.h"
#include "Shapes.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace ssmrt::detail;

namespace {

/// Dynamic shared memory beyond this needs a per-function opt-in.
constexpr uint32_t kDefaultSharedBytes = 48 * 1024;

/// One kernel parameter as the kernel reads it.
union KernelArg {
  CUdeviceptr pointer;
  int64_t value;
};
static_assert(sizeof(CUdeviceptr) == 8, "kernels take 8-byte pointers");

std::string quoted(const std::string &name) { return "'" + name + "'"; }

} // namespace

ssmrt_layer_st::ssmrt_layer_st(ssmrt_module_st &module, const LayerDesc &desc)
    : module(module), desc(desc), functions(desc.launches.size(), nullptr),
      workspaces(desc.workspaces.size()), blocksPerSM(desc.launches.size()) {}

void ssmrt_layer_st::launch(const ssmrt_tensor *tensors, int32_t numTensors,
                            CUstream stream) {
  LaunchShapes shapes = bindShapes(desc, tensors, numTensors);
  // Without a split or workers every size is known before the driver is
  // touched; the split length and the worker count depend on the device.
  bool chosen = desc.split.launch >= 0 || desc.workers.launch >= 0;
  if (!chosen)
    sizeLaunches(desc, 0, {}, shapes);
  const CudaDriver &driver = cudaDriver();
  std::lock_guard<std::mutex> lock(module.mutex);
  module.bind(driver);
  resolveFunctions(driver);
  if (chosen) {
    queryOccupancy(driver);
    sizeLaunches(desc, sms, blocksPerSM, shapes);
  }
  growWorkspaces(driver, shapes.workspaceBytes, stream);
  writeTensorMaps(driver, tensors, stream);

  std::vector<KernelArg> args;
  std::vector<void *> argPointers;
  for (std::size_t i = 0; i < functions.size(); ++i) {
    const LaunchDesc &launch = desc.launches[i];
    const std::array<uint32_t, 3> &grid = shapes.grids[i];
    if (grid[0] == 0 || grid[1] == 0 || grid[2] == 0)
      continue;
    args.resize(launch.params.size());
    argPointers.resize(launch.params.size());
    for (std::size_t p = 0; p < launch.params.size(); ++p) {
      const Param &param = launch.params[p];
      switch (param.kind) {
      case Param::Kind::Tensor:
        args[p].pointer = static_cast<CUdeviceptr>(
            reinterpret_cast<std::uintptr_t>(tensors[param.index].data));
        break;
      case Param::Kind::Workspace:
        args[p].pointer = workspaces[param.index].pointer;
        break;
      case Param::Kind::Symbol:
        args[p].value = shapes.symbols[param.index];
        break;
      }
      argPointers[p] = &args[p];
    }
    driver.check(driver.launchKernel(functions[i], grid[0], grid[1], grid[2],
                                     launch.block[0], launch.block[1],
                                     launch.block[2], launch.sharedBytes,
                                     stream, argPointers.data(), nullptr),
                 "cuLaunchKernel(" + quoted(launch.kernel) + ")");
  }
}

/// Encodes `map` of `tensor` into `out`: the tensor's innermost dimensions
/// merged down to the box's rank, out-of-bounds elements read as zeros.
static void encodeTensorMap(const CudaDriver &driver, const TensorMapDesc &map,
                            const ssmrt_tensor &tensor, const std::string &name,
                            void *out) {
  if (!driver.tensorMapEncodeTiled)
    fail(SSMRT_ERROR_NO_DRIVER,
         "the CUDA driver lacks cuTensorMapEncodeTiled "
         "(CUDA 12 or newer), which the tensor maps of " +
             quoted(name) + " need");
  std::size_t rank = map.box.size(), elem = dtypeSize(tensor.dtype);
  std::array<cuuint64_t, 5> dims{}, strides{};
  dims[0] = 1;
  for (int32_t d = static_cast<int32_t>(rank) - 1; d < tensor.rank; ++d)
    dims[0] *= static_cast<cuuint64_t>(tensor.shape[d]);
  for (std::size_t j = 1; j < rank; ++j)
    dims[j] = static_cast<cuuint64_t>(tensor.shape[rank - 1 - j]);
  cuuint64_t stride = elem;
  for (std::size_t j = 1; j < rank; ++j)
    strides[j - 1] = stride *= dims[j - 1];
  std::array<cuuint32_t, 5> box{}, elementStrides{1, 1, 1, 1, 1};
  std::copy(map.box.begin(), map.box.end(), box.begin());
  CUtensorMapDataType type =
      tensor.dtype == SSMRT_F32    ? CU_TENSOR_MAP_DATA_TYPE_FLOAT32
      : tensor.dtype == SSMRT_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                   : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  driver.check(driver.tensorMapEncodeTiled(
                   static_cast<CUtensorMap *>(out), type,
                   static_cast<cuuint32_t>(rank), tensor.data, dims.data(),
                   strides.data(), box.data(), elementStrides.data(),
                   CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_NONE,
                   CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
                   CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
               "cuTensorMapEncodeTiled(" + quoted(name) + ")");
}

void ssmrt_layer_st::writeTensorMaps(const CudaDriver &driver,
                                     const ssmrt_tensor *tensors,
                                     CUstream stream) {
  for (std::size_t w = 0; w < workspaces.size(); ++w) {
    const std::vector<TensorMapDesc> &maps = desc.workspaces[w].tensorMaps;
    if (maps.empty())
      continue;
    std::vector<unsigned char> encoded(kTensorMapBytes * maps.size());
    for (std::size_t m = 0; m < maps.size(); ++m)
      encodeTensorMap(driver, maps[m], tensors[maps[m].tensor],
                      desc.tensors[maps[m].tensor].name,
                      encoded.data() + kTensorMapBytes * m);
    Workspace &workspace = workspaces[w];
    if (encoded == workspace.tensorMaps)
      continue;
    // From pageable memory the call returns once `encoded` is staged; the
    // copy runs after the kernels queued before it, which read the old maps.
    driver.check(driver.memcpyHtoDAsync(workspace.pointer, encoded.data(),
                                        encoded.size(), stream),
                 "cuMemcpyHtoDAsync(" + quoted(desc.workspaces[w].name) + ")");
    workspace.tensorMaps = std::move(encoded);
  }
}

void ssmrt_layer_st::resolveFunctions(const CudaDriver &driver) {
  for (std::size_t i = 0; i < functions.size(); ++i) {
    if (functions[i])
      continue;
    const LaunchDesc &launch = desc.launches[i];
    std::string kernel = quoted(launch.kernel);
    CUfunction function = nullptr;
    driver.check(driver.moduleGetFunction(&function, module.cuModule,
                                          launch.kernel.c_str()),
                 "cuModuleGetFunction(" + kernel + ")");
    if (launch.sharedBytes > kDefaultSharedBytes)
      driver.check(
          driver.funcSetAttribute(
              function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
              static_cast<int>(launch.sharedBytes)),
          "cuFuncSetAttribute(" + kernel + ", MAX_DYNAMIC_SHARED_SIZE_BYTES)");
    functions[i] = function;
  }
}

void ssmrt_layer_st::queryOccupancy(const CudaDriver &driver) {
  if (sms > 0)
    return;
  CUdevice device = 0;
  driver.check(driver.ctxGetDevice(&device), "cuCtxGetDevice");
  int count = 0;
  driver.check(driver.deviceGetAttribute(
                   &count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device),
               "cuDeviceGetAttribute(MULTIPROCESSOR_COUNT)");
  for (int32_t decider : {desc.split.launch, desc.workers.launch}) {
    if (decider < 0)
      continue;
    const LaunchDesc &launch = desc.launches[decider];
    int resident = 0;
    driver.check(driver.occupancyMaxActiveBlocksPerMultiprocessor(
                     &resident, functions[decider],
                     static_cast<int>(launch.block[0] * launch.block[1] *
                                      launch.block[2]),
                     launch.sharedBytes),
                 "cuOccupancyMaxActiveBlocksPerMultiprocessor(" +
                     quoted(launch.kernel) + ")");
    blocksPerSM[decider] = resident;
  }
  sms = count;
}

void ssmrt_layer_st::growWorkspaces(const CudaDriver &driver,
                                    const std::vector<std::size_t> &bytes,
                                    CUstream stream) {
  bool synchronized = false;
  for (std::size_t i = 0; i < workspaces.size(); ++i) {
    Workspace &workspace = workspaces[i];
    if (bytes[i] <= workspace.bytes)
      continue;
    std::string name = "workspace " + quoted(desc.workspaces[i].name);
    if (workspace.pointer) {
      // Kernels still queued on any stream may use the old buffer.
      if (!synchronized)
        driver.check(driver.ctxSynchronize(), "cuCtxSynchronize");
      synchronized = true;
      driver.check(driver.memFree(workspace.pointer),
                   "cuMemFree(" + name + ")");
      workspace = {};
    }
    CUdeviceptr pointer = 0;
    driver.check(driver.memAlloc(&pointer, bytes[i]),
                 "cuMemAlloc(" + name + ", " + std::to_string(bytes[i]) +
                     " bytes)");
    // The kernels leave a zeroed workspace zeroed, so it is cleared only
    // when new, on the launch's stream ahead of them; until then it counts
    // as empty, so that a failed clear is redone by the next launch.
    workspace = {pointer, 0, {}};
    if (desc.workspaces[i].zeroed)
      driver.check(driver.memsetD8Async(pointer, 0, bytes[i], stream),
                   "cuMemsetD8Async(" + name + ")");
    workspace.bytes = bytes[i];
  }
}

ssmrt_module_st::ssmrt_module_st(Manifest parsed, std::vector<char> bytes)
    : manifest(std::move(parsed)), image(std::move(bytes)) {
  image.push_back('\0');
  layers.reserve(manifest.layers.size());
  for (const LayerDesc &layer : manifest.layers)
    layers.emplace_back(*this, layer);
}

ssmrt_module_st::~ssmrt_module_st() {
  try {
    release();
  } catch (...) {
    // Nothing could recover the resources; ssmrt_module_destroy reports it.
  }
}

void ssmrt_module_st::release() {
  if (!context)
    return; // The driver was never touched.
  // The driver loaded before `context` was set, so cudaDriver() cannot throw.
  const CudaDriver &driver = cudaDriver();
  CUcontext owner = std::exchange(context, nullptr);
  driver.check(driver.ctxPushCurrent(owner), "cuCtxPushCurrent");
  CUresult first = CUDA_SUCCESS;
  const char *failed = "";
  auto keep = [&](CUresult result, const char *what) {
    if (first == CUDA_SUCCESS && result != CUDA_SUCCESS) {
      first = result;
      failed = what;
    }
  };
  // Kernels may still be running in the module and writing the workspaces.
  keep(driver.ctxSynchronize(), "cuCtxSynchronize");
  for (ssmrt_layer_st &layer : layers)
    for (Workspace &workspace : layer.workspaces)
      if (workspace.pointer)
        keep(driver.memFree(std::exchange(workspace.pointer, 0)), "cuMemFree");
  keep(driver.moduleUnload(std::exchange(cuModule, nullptr)), "cuModuleUnload");
  CUcontext popped = nullptr;
  keep(driver.ctxPopCurrent(&popped), "cuCtxPopCurrent");
  driver.check(first, std::string("destroy: ") + failed);
}

void ssmrt_module_st::bind(const CudaDriver &driver) {
  CUcontext current = nullptr;
  driver.check(driver.ctxGetCurrent(&current), "cuCtxGetCurrent");
  if (!current) {
    // As the CUDA runtime does, a thread without a context gets one: the
    // module's own, else the primary context of device 0.
    current = context ? context : primaryContext(driver);
    driver.check(driver.ctxSetCurrent(current), "cuCtxSetCurrent");
  }
  if (context) {
    if (current != context)
      fail(SSMRT_ERROR_INVALID_VALUE,
           "launch: the current CUDA context is not the one the module was "
           "loaded into; load the manifest once per context");
    return;
  }
  CUmodule loaded = nullptr;
  driver.check(driver.moduleLoadData(&loaded, image.data()),
               "cuModuleLoadData");
  cuModule = loaded;
  context = current;
}
