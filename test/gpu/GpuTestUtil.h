//===- GpuTestUtil.h - Helpers of the GPU tests and benchmark ---*- C++ -*-===//
//
// What the GPU correctness tests and the benchmark share: the CUDA driver
// entry points, loaded with dlopen as libssmrt does so that the binaries build
// without libcuda and report "no GPU" instead of failing to start; device
// buffers; host conversion to and from f16/bf16; the layer spec reader
// (selective-scan, decode-step, causal conv1d and gated RMSNorm layers); the
// tensors of a compiled layer;
// their random inputs; and the per-element comparison with the reference.
// Inputs are rounded to the dtype the kernel reads before anything else sees
// them, so the fp64 reference and the GPU compute from exactly the same
// values.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_TEST_GPU_GPUTESTUTIL_H
#define SSMC_TEST_GPU_GPUTESTUTIL_H

#include "ssmc/Reference/Reference.h"
#include "ssmrt/ssmrt.hpp"

#include <cuda.h>
#include <dlfcn.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ssmc::gpu {

//===----------------------------------------------------------------------===//
// CUDA driver
//===----------------------------------------------------------------------===//

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

namespace detail {
inline Driver &driverTable() {
  static Driver table;
  return table;
}
} // namespace detail

/// The driver table; filled by a successful openDevice().
inline const Driver &driver() { return detail::driverTable(); }

/// Throws CudaError "<what>: <CUDA_ERROR_NAME>" unless `result` is success.
inline void check(CUresult result, const std::string &what) {
  if (result == CUDA_SUCCESS)
    return;
  const char *name = nullptr;
  if (driver().getErrorName(result, &name) != CUDA_SUCCESS || !name)
    name = "unknown CUresult";
  throw CudaError(what + ": " + name);
}

/// Loads and initializes the driver and makes the primary context of device 0
/// current, so that libssmrt launches in the context the buffers live in. The
/// context stays retained for the life of the process. Returns "" on success,
/// else why no GPU can be used.
inline std::string openDevice() {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return std::string("cannot load libcuda.so.1: ") + dlerror();
  Driver &table = detail::driverTable();
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

/// The name of device 0, e.g. "NVIDIA H100 80GB HBM3".
inline std::string deviceName() {
  CUdevice device = 0;
  check(driver().deviceGet(&device, 0), "cuDeviceGet(0)");
  char name[256] = {};
  check(driver().deviceGetName(name, sizeof(name), device), "cuDeviceGetName");
  return name;
}

/// The SM of device 0, e.g. "sm_90".
inline std::string deviceArch() {
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

/// Whether a binary built for `archs` runs on `device` ("sm_90"): any
/// arch but one whose every target is arch-specific ("sm_90a") for another
/// SM; those run on that SM only.
inline bool runsOn(const std::vector<std::string> &archs,
                   const std::string &device) {
  for (const std::string &arch : archs)
    if (arch.back() != 'a' || arch.substr(0, arch.size() - 1) == device)
      return true;
  return false;
}

/// The CUDA version the driver supports, as "13.0".
inline std::string driverVersion() {
  int version = 0;
  check(driver().driverGetVersion(&version), "cuDriverGetVersion");
  return std::to_string(version / 1000) + "." +
         std::to_string(version % 1000 / 10);
}

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

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

/// f32 to bf16, rounding to nearest even (NaN stays a quiet NaN).
inline uint16_t floatToBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if (std::isnan(value))
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

inline float bf16ToFloat(uint16_t value) {
  uint32_t bits = static_cast<uint32_t>(value) << 16;
  float result;
  std::memcpy(&result, &bits, 4);
  return result;
}

/// f32 to IEEE f16, rounding to nearest even, with subnormals and overflow to
/// infinity.
inline uint16_t floatToHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  const uint32_t sign = (bits >> 16) & 0x8000;
  const uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000) // NaN
    return static_cast<uint16_t>(sign | 0x7e00);
  if (magnitude >= 0x477ff000) // >= 65520 rounds to infinity
    return static_cast<uint16_t>(sign | 0x7c00);
  if (magnitude < 0x38800000) { // below 2^-14: a multiple of 2^-24
    float scaled;
    std::memcpy(&scaled, &magnitude, 4);
    // Exact scaling by a power of two, then the default round-to-even.
    return static_cast<uint16_t>(
        sign | static_cast<uint32_t>(std::nearbyint(scaled * 16777216.0f)));
  }
  // Rebias the exponent (127 -> 15) and round the mantissa to 10 bits; a
  // carry out of the mantissa correctly bumps the exponent.
  const uint32_t rounded = magnitude + 0xfff + ((magnitude >> 13) & 1);
  return static_cast<uint16_t>(sign | ((rounded - (112u << 23)) >> 13));
}

inline float halfToFloat(uint16_t value) {
  const uint32_t sign = static_cast<uint32_t>(value & 0x8000) << 16;
  const uint32_t exponent = (value >> 10) & 0x1f;
  const uint32_t mantissa = value & 0x3ff;
  if (exponent == 0) {
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  uint32_t bits =
      sign | (exponent == 31 ? 0x7f800000 | (mantissa << 13)
                             : ((exponent + 112) << 23) | (mantissa << 13));
  float result;
  std::memcpy(&result, &bits, 4);
  return result;
}

/// `values` stored as `dtype`: through f32, then to f16/bf16 if asked.
inline std::vector<uint8_t> encode(const std::vector<double> &values,
                                   ssmrt_dtype dtype) {
  std::vector<uint8_t> bytes(values.size() * ssmrt_dtype_size(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    const float f = static_cast<float>(values[i]);
    if (dtype == SSMRT_F32) {
      std::memcpy(&bytes[4 * i], &f, 4);
      continue;
    }
    const uint16_t h = dtype == SSMRT_F16 ? floatToHalf(f) : floatToBf16(f);
    std::memcpy(&bytes[2 * i], &h, 2);
  }
  return bytes;
}

/// The values of a `dtype` array.
inline std::vector<double> decode(const std::vector<uint8_t> &bytes,
                                  ssmrt_dtype dtype) {
  std::vector<double> values(bytes.size() / ssmrt_dtype_size(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == SSMRT_F32) {
      float f;
      std::memcpy(&f, &bytes[4 * i], 4);
      values[i] = f;
      continue;
    }
    uint16_t h;
    std::memcpy(&h, &bytes[2 * i], 2);
    values[i] = dtype == SSMRT_F16 ? halfToFloat(h) : bf16ToFloat(h);
  }
  return values;
}

/// `value` rounded to what a `dtype` element can hold.
inline double quantize(double value, ssmrt_dtype dtype) {
  const float f = static_cast<float>(value);
  switch (dtype) {
  case SSMRT_F32:
    return f;
  case SSMRT_F16:
    return halfToFloat(floatToHalf(f));
  case SSMRT_BF16:
    return bf16ToFloat(floatToBf16(f));
  }
  return f;
}

//===----------------------------------------------------------------------===//
// Layer specs
//===----------------------------------------------------------------------===//

/// One selective-scan layer of a spec (examples/README.md), defaults filled
/// in as ssmc does.
struct ScanSpec {
  std::string name;
  ssmrt_dtype dtype = SSMRT_F32;
  ref::Layout layout = ref::Layout::ChannelFirst;
  int64_t dim = 0;    ///< d_inner, D
  int64_t dstate = 0; ///< d_state, N
  ref::BCKind bc = ref::BCKind::Grouped;
  int64_t ngroups = 1;
  ssmrt_dtype bcDtype = SSMRT_F32;
  bool skip = false;
  bool gate = false;
  bool deltaBias = false;
  bool deltaSoftplus = false;
  bool initialState = false;
  bool finalState = false;
  bool reverse = false;
  /// Vim's pair of scans: the operands but z and y stack both directions.
  bool bidirectional = false;
  /// VMamba's SS2D scan ("cross_scan": {"height", "width"}): four directions
  /// over the crossHeight x crossWidth tokens, a static L; 0 if none.
  int64_t crossHeight = 0, crossWidth = 0;
  /// Whether the layer is a cross scan.
  bool crossScan() const { return crossHeight > 0 && crossWidth > 0; }
  /// The length a cross scan takes, H·W (0 if the layer is none).
  int64_t crossLen() const {
    return crossScan() ? crossHeight * crossWidth : 0;
  }
  /// The directions scanned: 4 for a cross scan, 2 for a bidirectional
  /// layer, else 1.
  int64_t directions() const { return crossScan() ? 4 : bidirectional ? 2 : 1; }
  /// The channels of u: D where the directions share it (one direction, or
  /// a cross scan), else one D a direction.
  int64_t uChannels() const { return crossScan() ? dim : directions() * dim; }
  /// The causal conv1d before the scan ("conv": {"width", "bias", "silu"}),
  /// which then reads u through it: its width K (0 if none), bias, silu.
  int64_t convWidth = 0;
  bool convBias = false, convSilu = false;
};

/// The two forms of a decode step.
enum class StepForm { Mamba1, Mamba2 };

/// One decode-step layer ("op": "scan_step") of a spec. Mamba-1 has D
/// channels of N states and A [D,N]; Mamba-2 has H heads of P channels, each
/// of N states, and one A per head.
struct StepSpec {
  std::string name;
  StepForm form = StepForm::Mamba2;
  ssmrt_dtype dtype = SSMRT_F32; ///< Of x, delta, B, C, z and y.
  int64_t dim = 0;               ///< d_inner, D (Mamba-1)
  int64_t nheads = 0;            ///< H (Mamba-2)
  int64_t headdim = 0;           ///< P (Mamba-2)
  int64_t dstate = 0;            ///< d_state, N
  int64_t ngroups = 1;           ///< G of B/C
  bool skip = false;
  bool gate = false;
  bool deltaBias = false;
  bool deltaSoftplus = false;
};

/// One causal depthwise conv1d layer ("op": "causal_conv1d") of a spec.
struct ConvSpec {
  std::string name;
  ssmrt_dtype dtype = SSMRT_F32; ///< Of x and y; weight, bias, states f32.
  ref::Layout layout = ref::Layout::ChannelFirst;
  int64_t channels = 0; ///< C
  int64_t width = 0;    ///< K
  bool bias = false;
  bool silu = false;
  bool initialState = false;
  bool finalState = false;
  /// The final state is written over the initial one: one in-out tensor.
  bool stateInPlace = false;

  /// The names of the initial and the final state tensors.
  const char *initName() const { return stateInPlace ? "conv_state" : "init"; }
  const char *finalName() const {
    return stateInPlace ? "conv_state" : "final_state";
  }
};

/// One gated RMSNorm layer ("op": "rms_norm_gated") of a spec.
struct NormSpec {
  std::string name;
  ssmrt_dtype dtype = SSMRT_F32;       ///< Of y, z and out.
  ssmrt_dtype weightDtype = SSMRT_F32; ///< Of weight [dim].
  int64_t dim = 0;                     ///< The normalized last dimension.
  int64_t groupSize = 0;               ///< dim unless the spec says.
  double eps = 1e-5;
  bool gate = true;
  bool normBeforeGate = false;
};

/// One Mamba-2 SSD layer ("op": "ssd_chunk") of a spec: x, z, y [B,L,H,P],
/// dt [B,L,H] and B, C [B,L,G,N] in the dtype; A, D, dt_bias [H] and the
/// states [B,H,P,N] f32.
struct SSDSpec {
  std::string name;
  ssmrt_dtype dtype = SSMRT_BF16;
  int64_t nheads = 0;  ///< H
  int64_t headdim = 0; ///< P
  int64_t dstate = 0;  ///< N
  int64_t ngroups = 1; ///< G
  int64_t chunkSize = 64;
  bool skip = false;
  bool gate = false;
  bool dtBias = false;
  bool dtSoftplus = false;
  bool initialState = false;
  bool finalState = false;
  /// The gated RMSNorm of y ("norm"), over dim = H·P, which takes the gate.
  std::optional<NormSpec> norm;
};

/// A spec file: the model name (which names its manifest) and its layers,
/// selective scans, decode steps, conv1d, SSD and norm layers apart.
struct SpecFile {
  std::string name;
  /// The spec's "arch" (ssmc's default where it has none).
  std::vector<std::string> archs;
  std::vector<ScanSpec> layers;
  std::vector<StepSpec> steps;
  std::vector<ConvSpec> convs;
  std::vector<SSDSpec> ssds;
  std::vector<NormSpec> norms;
};

inline ssmrt_dtype parseDtype(const std::string &name) {
  if (name == "f32")
    return SSMRT_F32;
  if (name == "f16")
    return SSMRT_F16;
  if (name == "bf16")
    return SSMRT_BF16;
  throw std::runtime_error("unknown dtype '" + name + "'");
}

/// The norm fields of a rms_norm_gated layer or of an SSD layer's "norm"
/// object; `norm.dim` is set.
inline void readNormFields(const nlohmann::json &fields, NormSpec &norm) {
  norm.weightDtype =
      parseDtype(fields.value("weight_dtype", std::string("f32")));
  norm.groupSize = fields.value("group_size", norm.dim);
  norm.eps = fields.value("eps", 1e-5);
  norm.normBeforeGate = fields.value("norm_before_gate", false);
}

/// Reads a spec file; throws std::runtime_error if it cannot. Validation is
/// ssmc's job: this only reads the fields the tests need.
inline SpecFile readSpec(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  try {
    nlohmann::json json = nlohmann::json::parse(in);
    SpecFile file;
    file.name = json.at("name").get<std::string>();
    file.archs = json.value("arch", std::vector<std::string>{"sm_80", "sm_90"});
    for (const nlohmann::json &entry : json.at("layers")) {
      const std::string op = entry.at("op").get<std::string>();
      if (op == "scan_step") {
        StepSpec step;
        step.name = entry.at("name").get<std::string>();
        step.form = entry.at("form").get<std::string>() == "mamba1"
                        ? StepForm::Mamba1
                        : StepForm::Mamba2;
        step.dtype = parseDtype(entry.at("dtype").get<std::string>());
        if (step.form == StepForm::Mamba1) {
          step.dim = entry.at("d_inner").get<int64_t>();
        } else {
          step.nheads = entry.at("nheads").get<int64_t>();
          step.headdim = entry.at("headdim").get<int64_t>();
        }
        step.dstate = entry.at("d_state").get<int64_t>();
        step.ngroups = entry.value("ngroups", int64_t(1));
        step.skip = entry.value("skip", false);
        step.gate = entry.value("gate", false);
        step.deltaBias = entry.value("delta_bias", false);
        step.deltaSoftplus = entry.value("delta_softplus", false);
        file.steps.push_back(step);
        continue;
      }
      if (op == "causal_conv1d") {
        ConvSpec conv;
        conv.name = entry.at("name").get<std::string>();
        conv.dtype = parseDtype(entry.at("dtype").get<std::string>());
        conv.layout = entry.value("layout", "channel_first") == "channel_last"
                          ? ref::Layout::ChannelLast
                          : ref::Layout::ChannelFirst;
        conv.channels = entry.at("channels").get<int64_t>();
        conv.width = entry.at("width").get<int64_t>();
        conv.bias = entry.value("bias", false);
        conv.silu = entry.value("silu", false);
        conv.initialState = entry.value("initial_state", false);
        conv.finalState = entry.value("final_state", false);
        conv.stateInPlace = entry.value("state_in_place", false);
        file.convs.push_back(conv);
        continue;
      }
      if (op == "ssd_chunk") {
        SSDSpec ssd;
        ssd.name = entry.at("name").get<std::string>();
        ssd.dtype = parseDtype(entry.at("dtype").get<std::string>());
        ssd.nheads = entry.at("nheads").get<int64_t>();
        ssd.headdim = entry.at("headdim").get<int64_t>();
        ssd.dstate = entry.at("d_state").get<int64_t>();
        ssd.ngroups = entry.value("ngroups", int64_t(1));
        ssd.chunkSize = entry.value("chunk_size", int64_t(64));
        ssd.skip = entry.value("skip", false);
        ssd.gate = entry.value("gate", false);
        ssd.dtBias = entry.value("dt_bias", false);
        ssd.dtSoftplus = entry.value("dt_softplus", false);
        ssd.initialState = entry.value("initial_state", false);
        ssd.finalState = entry.value("final_state", false);
        if (entry.contains("norm")) {
          NormSpec norm;
          norm.name = ssd.name;
          norm.dtype = ssd.dtype;
          norm.dim = ssd.nheads * ssd.headdim;
          norm.gate = ssd.gate;
          readNormFields(entry.at("norm"), norm);
          ssd.norm = norm;
        }
        file.ssds.push_back(ssd);
        continue;
      }
      if (op == "rms_norm_gated") {
        NormSpec norm;
        norm.name = entry.at("name").get<std::string>();
        norm.dtype = parseDtype(entry.at("dtype").get<std::string>());
        norm.dim = entry.at("dim").get<int64_t>();
        norm.gate = entry.value("gate", true);
        readNormFields(entry, norm);
        file.norms.push_back(norm);
        continue;
      }
      if (op != "selective_scan")
        throw std::runtime_error("only selective_scan, scan_step, "
                                 "causal_conv1d, ssd_chunk and rms_norm_gated "
                                 "layers are "
                                 "tested");
      ScanSpec layer;
      layer.name = entry.at("name").get<std::string>();
      layer.dtype = parseDtype(entry.at("dtype").get<std::string>());
      layer.layout = entry.value("layout", "channel_first") == "channel_last"
                         ? ref::Layout::ChannelLast
                         : ref::Layout::ChannelFirst;
      layer.dim = entry.at("d_inner").get<int64_t>();
      layer.dstate = entry.at("d_state").get<int64_t>();
      const std::string bc = entry.value("bc", "grouped");
      layer.bc = bc == "shared"        ? ref::BCKind::Shared
                 : bc == "per_channel" ? ref::BCKind::PerChannel
                                       : ref::BCKind::Grouped;
      layer.ngroups = entry.value("ngroups", int64_t(1));
      layer.bcDtype = entry.contains("bc_dtype")
                          ? parseDtype(entry["bc_dtype"].get<std::string>())
                          : layer.dtype;
      layer.skip = entry.value("skip", false);
      layer.gate = entry.value("gate", false);
      layer.deltaBias = entry.value("delta_bias", false);
      layer.deltaSoftplus = entry.value("delta_softplus", false);
      layer.initialState = entry.value("initial_state", false);
      layer.finalState = entry.value("final_state", false);
      layer.reverse = entry.value("reverse", false);
      layer.bidirectional = entry.value("bidirectional", false);
      if (entry.contains("cross_scan")) {
        const nlohmann::json &cross = entry.at("cross_scan");
        layer.crossHeight = cross.at("height").get<int64_t>();
        layer.crossWidth = cross.at("width").get<int64_t>();
      }
      if (entry.contains("conv")) {
        const nlohmann::json &conv = entry.at("conv");
        layer.convWidth = conv.at("width").get<int64_t>();
        layer.convBias = conv.value("bias", false);
        layer.convSilu = conv.value("silu", false);
      }
      file.layers.push_back(layer);
    }
    return file;
  } catch (const nlohmann::json::exception &error) {
    throw std::runtime_error(path + ": " + error.what());
  }
}

/// The *.json files of `dir`, sorted.
inline std::vector<std::string> listSpecs(const std::string &dir) {
  std::vector<std::string> paths;
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".json")
      paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

//===----------------------------------------------------------------------===//
// Layer tensors
//===----------------------------------------------------------------------===//

/// Placeholders for the symbolic sizes of a TensorDesc shape.
constexpr int64_t kBatchDim = -1;
constexpr int64_t kLenDim = -2;

/// How a layer uses a tensor; the values are those of the `isOutput` of
/// ssmrt_layer_tensor_info.
enum class Role : int32_t { Input = 0, Output = 1, InOut = 2 };

/// A tensor of a compiled layer as the manifest contract describes it.
struct TensorDesc {
  std::string name;
  Role role = Role::Input;
  ssmrt_dtype dtype = SSMRT_F32;
  /// Static sizes, kBatchDim or kLenDim.
  std::vector<int64_t> shape;

  /// The kernel reads it: an input or an in-out tensor.
  bool read() const { return role != Role::Output; }
  /// The kernel writes it: an output or an in-out tensor.
  bool written() const { return role != Role::Input; }
};

/// The tensors of the layer compiled from `spec`, in launch order: u, delta,
/// A, B, C, [D], [z], [delta_bias], [h0], [conv_weight, [conv_bias]], y,
/// [last_state]. A bidirectional
/// layer's tensors but z and y stack both directions (2D channels, 2G
/// groups); a cross scan's but u, z and y the four directions' (4D, 4G).
/// `len` stands for the length in every shape: kLenDim, or a cross scan's
/// static H·W.
inline std::vector<TensorDesc> layerTensors(const ScanSpec &spec, int64_t len) {
  const int64_t dim = spec.dim, n = spec.dstate,
                g = spec.directions() * spec.ngroups,
                inDim = spec.directions() * dim;
  const bool channelFirst = spec.layout == ref::Layout::ChannelFirst;
  auto sequence = [&](int64_t channels) {
    return channelFirst ? std::vector<int64_t>{kBatchDim, channels, len}
                        : std::vector<int64_t>{kBatchDim, len, channels};
  };
  const std::vector<int64_t> seq = sequence(dim), inSeq = sequence(inDim),
                             uSeq = sequence(spec.uChannels());
  std::vector<int64_t> bc;
  switch (spec.bc) {
  case ref::BCKind::PerChannel:
    bc = {inDim, n};
    break;
  case ref::BCKind::Shared:
    bc = channelFirst ? std::vector<int64_t>{kBatchDim, n, len}
                      : std::vector<int64_t>{kBatchDim, len, n};
    break;
  case ref::BCKind::Grouped:
    bc = channelFirst ? std::vector<int64_t>{kBatchDim, g, n, len}
                      : std::vector<int64_t>{kBatchDim, len, g, n};
    break;
  }
  const std::vector<int64_t> state = {kBatchDim, inDim, n};
  const Role in = Role::Input, out = Role::Output;
  std::vector<TensorDesc> tensors = {{"u", in, spec.dtype, uSeq},
                                     {"delta", in, spec.dtype, inSeq},
                                     {"A", in, SSMRT_F32, {inDim, n}},
                                     {"B", in, spec.bcDtype, bc},
                                     {"C", in, spec.bcDtype, bc}};
  if (spec.skip)
    tensors.push_back({"D", in, SSMRT_F32, {inDim}});
  if (spec.gate)
    tensors.push_back({"z", in, spec.dtype, seq});
  if (spec.deltaBias)
    tensors.push_back({"delta_bias", in, SSMRT_F32, {inDim}});
  if (spec.initialState)
    tensors.push_back({"h0", in, SSMRT_F32, state});
  if (spec.convWidth) {
    tensors.push_back({"conv_weight", in, SSMRT_F32, {inDim, spec.convWidth}});
    if (spec.convBias)
      tensors.push_back({"conv_bias", in, SSMRT_F32, {inDim}});
  }
  tensors.push_back({"y", out, spec.dtype, seq});
  if (spec.finalState)
    tensors.push_back({"last_state", out, SSMRT_F32, state});
  return tensors;
}

/// The tensors of the layer compiled from `spec`, as its manifest has them:
/// a cross scan's length is its static H·W, any other layer's the symbol.
inline std::vector<TensorDesc> layerTensors(const ScanSpec &spec) {
  return layerTensors(spec, spec.crossScan() ? spec.crossLen() : kLenDim);
}

/// The tensors of the decode step compiled from `spec`, in launch order:
/// state (in-out, f32), x, delta, A, B, C, [D], [z], [delta_bias], y.
/// Mamba-2: state [B,H,P,N], x, z, y [B,H,P], delta [B,H], A, D, delta_bias
/// [H]. Mamba-1: state [B,D,N], x, delta, z, y [B,D], A [D,N], D, delta_bias
/// [D]. B and C are [B,G,N] in both.
inline std::vector<TensorDesc> stepTensors(const StepSpec &spec) {
  const bool mamba2 = spec.form == StepForm::Mamba2;
  const int64_t n = spec.dstate, g = spec.ngroups;
  // The channels that own a Δ, an A row, a D and a bias: heads or D.
  const int64_t channels = mamba2 ? spec.nheads : spec.dim;
  const std::vector<int64_t> seq =
      mamba2 ? std::vector<int64_t>{kBatchDim, spec.nheads, spec.headdim}
             : std::vector<int64_t>{kBatchDim, spec.dim};
  std::vector<int64_t> state = seq;
  state.push_back(n);
  const std::vector<int64_t> a = mamba2 ? std::vector<int64_t>{channels}
                                        : std::vector<int64_t>{channels, n};
  const Role in = Role::Input;
  std::vector<TensorDesc> tensors = {
      {"state", Role::InOut, SSMRT_F32, state},
      {"x", in, spec.dtype, seq},
      {"delta", in, spec.dtype, {kBatchDim, channels}},
      {"A", in, SSMRT_F32, a},
      {"B", in, spec.dtype, {kBatchDim, g, n}},
      {"C", in, spec.dtype, {kBatchDim, g, n}}};
  if (spec.skip)
    tensors.push_back({"D", in, SSMRT_F32, {channels}});
  if (spec.gate)
    tensors.push_back({"z", in, spec.dtype, seq});
  if (spec.deltaBias)
    tensors.push_back({"delta_bias", in, SSMRT_F32, {channels}});
  tensors.push_back({"y", Role::Output, spec.dtype, seq});
  return tensors;
}

/// The tensors of the causal conv1d compiled from `spec`, in launch order:
/// x, weight [C,K], [bias [C]], [init [B,C,K-1]], y, [final_state
/// [B,C,K-1]]; x and y are [B,C,L] or [B,L,C] in the dtype, the rest f32.
inline std::vector<TensorDesc> convTensors(const ConvSpec &spec) {
  const int64_t c = spec.channels, k = spec.width;
  const std::vector<int64_t> seq =
      spec.layout == ref::Layout::ChannelFirst
          ? std::vector<int64_t>{kBatchDim, c, kLenDim}
          : std::vector<int64_t>{kBatchDim, kLenDim, c};
  const std::vector<int64_t> state = {kBatchDim, c, k - 1};
  const Role in = Role::Input, out = Role::Output;
  std::vector<TensorDesc> tensors = {{"x", in, spec.dtype, seq},
                                     {"weight", in, SSMRT_F32, {c, k}}};
  if (spec.bias)
    tensors.push_back({"bias", in, SSMRT_F32, {c}});
  if (spec.initialState)
    tensors.push_back({spec.initName(), spec.stateInPlace ? Role::InOut : in,
                       SSMRT_F32, state});
  tensors.push_back({"y", out, spec.dtype, seq});
  if (spec.finalState && !spec.stateInPlace)
    tensors.push_back({"final_state", out, SSMRT_F32, state});
  return tensors;
}

/// The tensors of the SSD layer compiled from `spec`, in launch order: x, dt,
/// A, B, C, [D], [z], [dt_bias], [init], y, [final_state].
inline std::vector<TensorDesc> ssdTensors(const SSDSpec &spec) {
  const int64_t h = spec.nheads, p = spec.headdim, n = spec.dstate;
  const std::vector<int64_t> act = {kBatchDim, kLenDim, h, p};
  const std::vector<int64_t> bc = {kBatchDim, kLenDim, spec.ngroups, n};
  const std::vector<int64_t> state = {kBatchDim, h, p, n};
  const Role in = Role::Input, out = Role::Output;
  std::vector<TensorDesc> tensors = {
      {"x", in, spec.dtype, act},
      {"dt", in, spec.dtype, {kBatchDim, kLenDim, h}},
      {"A", in, SSMRT_F32, {h}},
      {"B", in, spec.dtype, bc},
      {"C", in, spec.dtype, bc}};
  if (spec.skip)
    tensors.push_back({"D", in, SSMRT_F32, {h}});
  if (spec.gate)
    tensors.push_back({"z", in, spec.dtype, act});
  if (spec.dtBias)
    tensors.push_back({"dt_bias", in, SSMRT_F32, {h}});
  if (spec.initialState)
    tensors.push_back({"init", in, SSMRT_F32, state});
  if (spec.norm)
    tensors.push_back({"norm_weight", in, spec.norm->weightDtype, {h * p}});
  tensors.push_back({"y", out, spec.dtype, act});
  if (spec.finalState)
    tensors.push_back({"final_state", out, SSMRT_F32, state});
  return tensors;
}

/// The tensors of the gated RMSNorm compiled from `spec`, in launch order:
/// y, [z], weight [dim], out; y, z and out are [B,L,dim] in the dtype.
inline std::vector<TensorDesc> normTensors(const NormSpec &spec) {
  const std::vector<int64_t> rows = {kBatchDim, kLenDim, spec.dim};
  std::vector<TensorDesc> tensors = {{"y", Role::Input, spec.dtype, rows}};
  if (spec.gate)
    tensors.push_back({"z", Role::Input, spec.dtype, rows});
  tensors.push_back({"weight", Role::Input, spec.weightDtype, {spec.dim}});
  tensors.push_back({"out", Role::Output, spec.dtype, rows});
  return tensors;
}

/// `shape` with the symbols bound to `batch` and `len`.
inline std::vector<int64_t> bindShape(const std::vector<int64_t> &shape,
                                      int64_t batch, int64_t len) {
  std::vector<int64_t> bound = shape;
  for (int64_t &size : bound)
    size = size == kBatchDim ? batch : size == kLenDim ? len : size;
  return bound;
}

/// The shape of tensor `name` of `tensors` for `batch` x `len`.
inline std::vector<int64_t> tensorShape(const std::vector<TensorDesc> &tensors,
                                        const std::string &name, int64_t batch,
                                        int64_t len) {
  for (const TensorDesc &t : tensors)
    if (t.name == name)
      return bindShape(t.shape, batch, len);
  throw std::logic_error("no tensor " + name);
}

/// The element-wise absolute values of `values`.
inline std::vector<double> absolute(std::vector<double> values) {
  for (double &v : values)
    v = std::fabs(v);
  return values;
}

inline int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

/// "inout f32 [B,80,64,128]": a tensor's role, dtype and shape, with every
/// symbol shown as "?" (the runtime reports them as -1).
inline std::string describeTensor(int32_t role, ssmrt_dtype dtype,
                                  const std::vector<int64_t> &shape) {
  std::string text = role == 0 ? "input " : role == 1 ? "output " : "inout ";
  text += std::string(ssmrt_dtype_name(dtype)) + " [";
  for (size_t d = 0; d < shape.size(); ++d)
    text += (d ? "," : "") + (shape[d] < 0 ? "?" : std::to_string(shape[d]));
  return text + "]";
}

/// Throws std::runtime_error naming the first way in which the manifest of
/// `layer` differs from the tensors `want` its spec compiles to: kernels
/// built from another version of a spec must not be tested against this one.
inline void checkLayer(const ssmrt::Layer &layer,
                       const std::vector<TensorDesc> &want) {
  if (layer.numTensors() != static_cast<int32_t>(want.size()))
    throw std::runtime_error(
        "manifest has " + std::to_string(layer.numTensors()) +
        " tensors, the spec implies " + std::to_string(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    const char *name = nullptr;
    int32_t isOutput = 0, rank = 0;
    ssmrt_dtype dtype = SSMRT_F32;
    int64_t shape[8] = {};
    ssmrt::check(ssmrt_layer_tensor_info(layer.get(), static_cast<int32_t>(i),
                                         &name, &isOutput, &dtype, &rank,
                                         shape));
    const TensorDesc &t = want[i];
    bool same = t.name == name && isOutput == static_cast<int32_t>(t.role) &&
                dtype == t.dtype &&
                rank == static_cast<int32_t>(t.shape.size());
    // The runtime reports every symbol as -1.
    for (int32_t d = 0; same && d < rank; ++d)
      same = t.shape[d] < 0 ? shape[d] == -1 : shape[d] == t.shape[d];
    if (!same)
      throw std::runtime_error(
          "manifest tensor " + std::to_string(i) + " '" + name + "' (" +
          describeTensor(
              isOutput, dtype,
              std::vector<int64_t>(shape, shape + std::clamp(rank, 0, 8))) +
          ") does not match the spec's '" + t.name + "' (" +
          describeTensor(static_cast<int32_t>(t.role), t.dtype, t.shape) + ")");
  }
}

/// checkLayer for the selective-scan layer compiled from `spec`.
inline void checkLayer(const ssmrt::Layer &layer, const ScanSpec &spec) {
  checkLayer(layer, layerTensors(spec));
}

/// checkLayer for the decode step compiled from `spec`.
inline void checkLayer(const ssmrt::Layer &layer, const StepSpec &spec) {
  checkLayer(layer, stepTensors(spec));
}

/// checkLayer for the causal conv1d compiled from `spec`.
inline void checkLayer(const ssmrt::Layer &layer, const ConvSpec &spec) {
  checkLayer(layer, convTensors(spec));
}

/// checkLayer for the SSD layer compiled from `spec`.
inline void checkLayer(const ssmrt::Layer &layer, const SSDSpec &spec) {
  checkLayer(layer, ssdTensors(spec));
}

/// checkLayer for the gated RMSNorm compiled from `spec`.
inline void checkLayer(const ssmrt::Layer &layer, const NormSpec &spec) {
  checkLayer(layer, normTensors(spec));
}

//===----------------------------------------------------------------------===//
// Inputs and launches
//===----------------------------------------------------------------------===//

/// Runs `body(i)` for i in [0, count) on all hardware threads.
template <typename Body> void parallelFor(int64_t count, Body body) {
  std::atomic<int64_t> next{0};
  auto worker = [&] {
    for (int64_t i = next++; i < count; i = next++)
      body(i);
  };
  const int64_t workers = std::min<int64_t>(
      count, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (int64_t w = 1; w < workers; ++w)
    threads.emplace_back(worker);
  worker();
  for (std::thread &thread : threads)
    thread.join();
}

/// 64-bit FNV-1a of `text`: a seed that is the same on every platform.
inline uint64_t seedOf(const std::string &text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text)
    hash = (hash ^ c) * 0x100000001b3ull;
  return hash;
}

/// `count` draws of `dist`, mapped through `transform` if given, rounded to
/// `dtype`. Blocks of 2^20 elements have their own generator, seeded from
/// (seed, block), and their own copy of `dist`, so the values do not depend
/// on the number of threads.
template <typename Dist>
std::vector<double> randomTensor(int64_t count, ssmrt_dtype dtype,
                                 uint64_t seed, const Dist &dist,
                                 double (*transform)(double) = nullptr) {
  constexpr int64_t blockSize = int64_t(1) << 20;
  std::vector<double> values(count);
  parallelFor((count + blockSize - 1) / blockSize, [&](int64_t block) {
    std::mt19937_64 generator(seed + 0x9e3779b97f4a7c15ull * (block + 1));
    Dist local = dist;
    const int64_t end = std::min(count, (block + 1) * blockSize);
    for (int64_t i = block * blockSize; i < end; ++i) {
      const double value = local(generator);
      values[i] = quantize(transform ? transform(value) : value, dtype);
    }
  });
  return values;
}

/// The values of every tensor of one launch by tensor name, in fp64. Inputs
/// hold exactly what a kernel reads; outputs are filled by a launch.
struct ScanData {
  int64_t batch = 0;
  int64_t len = 0;
  std::map<std::string, std::vector<double>> values;
};

/// The reference's input `name` of `data`, or of `magnitudes` (|input|) in
/// the magnitude pass where it has one; null if the layer has no `name`.
inline const double *
referenceInput(const ScanData &data,
               const std::map<std::string, std::vector<double>> &magnitudes,
               bool magnitude, const char *name) {
  if (magnitude && magnitudes.count(name))
    return magnitudes.at(name).data();
  auto it = data.values.find(name);
  return it == data.values.end() ? nullptr : it->second.data();
}

/// Random values for the tensors of `tensors` that a kernel reads (inputs
/// and in-out tensors), for `batch` x `len`, from `seed`: A = -exp(U(-1,1));
/// with `deltaSoftplus`, raw delta (or dt) ~ U(-3,-1) and bias ~ U(-1,0) (Δ =
/// softplus(raw + bias) in about [0.02, 0.31]); without, raw delta ~
/// U(0.001,0.1) and bias ~ U(0,0.01), which keeps Δ positive; every other
/// tensor (u, x, z, B, C, D, h0, state) ~ N(0,1). Each tensor has its own
/// seed, derived from `seed` and its name.
inline ScanData makeInputs(const std::vector<TensorDesc> &tensors,
                           bool deltaSoftplus, int64_t batch, int64_t len,
                           uint64_t seed) {
  using Uniform = std::uniform_real_distribution<double>;
  const Uniform rawDelta =
      deltaSoftplus ? Uniform(-3.0, -1.0) : Uniform(0.001, 0.1);
  const Uniform bias = deltaSoftplus ? Uniform(-1.0, 0.0) : Uniform(0.0, 0.01);
  ScanData data;
  data.batch = batch;
  data.len = len;
  for (const TensorDesc &t : tensors) {
    if (!t.read())
      continue;
    const int64_t count = numElements(bindShape(t.shape, batch, len));
    const uint64_t tensorSeed = seedOf(std::to_string(seed) + "/" + t.name);
    std::vector<double> &values = data.values[t.name];
    if (t.name == "delta" || t.name == "dt")
      values = randomTensor(count, t.dtype, tensorSeed, rawDelta);
    else if (t.name == "delta_bias" || t.name == "dt_bias")
      values = randomTensor(count, t.dtype, tensorSeed, bias);
    else if (t.name == "A")
      values = randomTensor(count, t.dtype, tensorSeed, Uniform(-1.0, 1.0),
                            [](double x) { return -std::exp(x); });
    else
      values = randomTensor(count, t.dtype, tensorSeed,
                            std::normal_distribution<double>());
  }
  return data;
}

/// Random inputs of the selective scan `spec` (see above).
inline ScanData makeInputs(const ScanSpec &spec, int64_t batch, int64_t len,
                           uint64_t seed) {
  return makeInputs(layerTensors(spec), spec.deltaSoftplus, batch, len, seed);
}

/// Random inputs and initial state of the decode step `spec` for `batch`
/// (see above; len is 1).
inline ScanData makeInputs(const StepSpec &spec, int64_t batch, uint64_t seed) {
  return makeInputs(stepTensors(spec), spec.deltaSoftplus, batch, 1, seed);
}

/// Device copies of every tensor of one launch and the argument list that
/// launches the layer on them.
class DeviceTensors {
public:
  /// Allocates every tensor of `tensors` for the sizes of `data`, uploads
  /// what the kernel reads (inputs, in-out tensors) and fills the outputs
  /// with NaN. Inputs named in `encoded` are uploaded from its bytes (in
  /// their dtype) rather than from `data`: tensors too large for fp64
  /// copies.
  DeviceTensors(std::vector<TensorDesc> tensors, const ScanData &data,
                const std::map<std::string, std::vector<uint8_t>> &encoded = {})
      : descs(std::move(tensors)) {
    buffers.reserve(descs.size());
    for (const TensorDesc &t : descs) {
      const std::vector<int64_t> shape =
          bindShape(t.shape, data.batch, data.len);
      buffers.emplace_back(numElements(shape) * ssmrt_dtype_size(t.dtype));
      if (t.read() && encoded.count(t.name))
        buffers.back().upload(encoded.at(t.name));
      else if (t.read())
        buffers.back().upload(encode(data.values.at(t.name), t.dtype));
      ssmrt_tensor tensor = {};
      tensor.data = reinterpret_cast<void *>(buffers.back().get());
      tensor.dtype = t.dtype;
      tensor.rank = static_cast<int32_t>(shape.size());
      std::copy(shape.begin(), shape.end(), tensor.shape);
      args.push_back(tensor);
    }
    poisonOutputs();
  }

  /// The tensors of the selective scan `spec`.
  DeviceTensors(const ScanSpec &spec, const ScanData &data)
      : DeviceTensors(layerTensors(spec), data) {}

  /// The tensors of the decode step `spec`.
  DeviceTensors(const StepSpec &spec, const ScanData &data)
      : DeviceTensors(stepTensors(spec), data) {}

  /// The tensors in launch order.
  const std::vector<ssmrt_tensor> &tensors() const { return args; }

  /// Fills the pure outputs (not the in-out tensors) with NaN.
  void poisonOutputs() const {
    for (size_t i = 0; i < descs.size(); ++i)
      if (!descs[i].read())
        // All-ones bytes are NaN in every dtype: an element the kernel does
        // not write cannot pass for a stale correct value.
        check(driver().memsetD8(buffers[i].get(), 0xff, buffers[i].size()),
              "cuMemsetD8");
  }

  /// Overwrites tensor `name` with `values`, e.g. the next step's inputs.
  void upload(const std::string &name,
              const std::vector<double> &values) const {
    const size_t i = indexOf(name);
    if (values.size() * ssmrt_dtype_size(descs[i].dtype) != buffers[i].size())
      throw std::logic_error("wrong number of values for " + name);
    buffers[i].upload(encode(values, descs[i].dtype));
  }

  /// The current contents of tensor `name`.
  std::vector<double> download(const std::string &name) const {
    return decode(downloadBytes(name), descs[indexOf(name)].dtype);
  }

  /// The current contents of tensor `name`, in its dtype.
  std::vector<uint8_t> downloadBytes(const std::string &name) const {
    return buffers[indexOf(name)].download();
  }

  /// Stores everything the kernel writes (outputs, in-out tensors) into
  /// `data`.
  void downloadOutputs(ScanData &data) const {
    for (size_t i = 0; i < descs.size(); ++i)
      if (descs[i].written())
        data.values[descs[i].name] =
            decode(buffers[i].download(), descs[i].dtype);
  }

private:
  size_t indexOf(const std::string &name) const {
    for (size_t i = 0; i < descs.size(); ++i)
      if (descs[i].name == name)
        return i;
    throw std::logic_error("no tensor " + name);
  }

  std::vector<TensorDesc> descs;
  std::vector<DeviceBuffer> buffers;
  std::vector<ssmrt_tensor> args;
};

/// Launches `layer` on `device` on the default stream; a failed driver call
/// inside libssmrt becomes a CudaError, other failures stay ssmrt::Error.
inline void launchLayer(const ssmrt::Layer &layer,
                        const DeviceTensors &device) {
  try {
    layer.launch(device.tensors());
  } catch (const ssmrt::Error &error) {
    if (error.status() == SSMRT_ERROR_CUDA)
      throw CudaError(error.what());
    throw;
  }
}

/// Launches `layer` on `device` and waits for it.
inline void launchAndWait(const ssmrt::Layer &layer,
                          const DeviceTensors &device) {
  launchLayer(layer, device);
  check(driver().ctxSynchronize(), "cuCtxSynchronize after the launch");
}

//===----------------------------------------------------------------------===//
// Checking results
//===----------------------------------------------------------------------===//

/// Counts of the cases run so far.
struct Tally {
  int passed = 0;
  int failed = 0;
};

/// One compared tensor of a case.
struct Check {
  std::string label;
  double error = 0; ///< max((|got - want| - k·r·|ref|) / mag)
  double tolerance = 0;
  std::string worst; ///< Where the largest error is, if it fails.
};

/// A CUDA error after which the context may be unusable.
struct FatalCudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The decode step's error budgets, relative to the magnitude (derived in
/// StepTest.cpp): y, and the state per step. The SSD test uses them too,
/// where decode steps must reproduce a prefill.
constexpr double kStepEps = 1e-4;
constexpr double kStepStateEps = 3e-5;

/// Half an ulp of `dtype` relative to the value: 0 for f32, whose rounding is
/// part of the arithmetic's error budget.
inline double outputRounding(ssmrt_dtype dtype) {
  return dtype == SSMRT_BF16  ? std::ldexp(1.0, -8)
         : dtype == SSMRT_F16 ? std::ldexp(1.0, -11)
                              : 0.0;
}

/// The absolute rounding of a subnormal `dtype` output.
inline double subnormalRounding(ssmrt_dtype dtype) {
  return dtype == SSMRT_F16 ? std::ldexp(1.0, -25) : 0.0;
}

/// "[i0, i1, ...]": the index of flat element `flat` in `shape`.
inline std::string formatIndex(int64_t flat,
                               const std::vector<int64_t> &shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::string text = "[";
  for (size_t d = 0; d < index.size(); ++d)
    text += (d ? "," : "") + std::to_string(index[d]);
  return text + "]";
}

/// Compares `got` with `want` element by element: each must satisfy
/// |got - want| <= k·(r·|ref| + subnormal rounding) + tolerance·mag, where r
/// is the output rounding of `dtype` and `mag` the magnitude of the terms
/// that built the element (see ScanTest.cpp). `k` is the number of
/// independently rounded results in the difference: 1 against the
/// reference, 2 between two GPU results. A NaN on either side fails.
inline Check compare(const std::string &label, const std::vector<double> &got,
                     const std::vector<double> &want,
                     const std::vector<double> &ref,
                     const std::vector<double> &mag, ssmrt_dtype dtype,
                     const std::vector<int64_t> &shape, double k,
                     double tolerance) {
  const double r = outputRounding(dtype), floor = subnormalRounding(dtype);
  Check check{label, 0.0, tolerance, ""};
  int64_t worstAt = -1;
  for (size_t i = 0; i < got.size(); ++i) {
    const double excess =
        std::fabs(got[i] - want[i]) - k * (r * std::fabs(ref[i]) + floor);
    double error = 0.0;
    if (!(excess <= 0))
      error = std::isnan(excess) || mag[i] == 0
                  ? std::numeric_limits<double>::infinity()
                  : excess / mag[i];
    if (worstAt < 0 || error > check.error) {
      check.error = error;
      worstAt = static_cast<int64_t>(i);
    }
  }
  if (check.error > tolerance) {
    char text[160];
    std::snprintf(text, sizeof(text), " at %s: got %.6g, want %.6g",
                  formatIndex(worstAt, shape).c_str(), got[worstAt],
                  want[worstAt]);
    check.worst = text;
  }
  return check;
}

/// Prints the "PASS name  label error/tolerance ..." or FAIL line of one case
/// and counts it.
inline void report(const std::string &name, const std::vector<Check> &checks,
                   Tally &tally) {
  bool pass = true;
  std::string text;
  for (const Check &c : checks) {
    char item[96];
    std::snprintf(item, sizeof(item), "  %s %.1e/%.1e", c.label.c_str(),
                  c.error, c.tolerance);
    text += item + c.worst;
    pass = pass && c.error <= c.tolerance;
  }
  std::printf("%s %s%s\n", pass ? "PASS" : "FAIL", name.c_str(), text.c_str());
  std::fflush(stdout);
  ++(pass ? tally.passed : tally.failed);
}

/// Runs `body`, turning an error into a failed case named `name`. A CUDA
/// error becomes FatalCudaError when it left the context broken.
template <typename Body>
void guarded(const std::string &name, Tally &tally, Body body) {
  try {
    body();
  } catch (const CudaError &error) {
    std::printf("FAIL %s  CUDA error: %s\n", name.c_str(), error.what());
    ++tally.failed;
    if (driver().ctxSynchronize() != CUDA_SUCCESS)
      throw FatalCudaError(error.what());
  } catch (const std::exception &error) {
    std::printf("FAIL %s  %s\n", name.c_str(), error.what());
    ++tally.failed;
  }
  std::fflush(stdout);
}

//===----------------------------------------------------------------------===//
// The shared main of the GPU test binaries
//===----------------------------------------------------------------------===//

// The test binaries define where their specs live; the bench does not use
// this part.
#ifdef SSMC_GPU_TEST_SPECS_DIR

/// Command-line options of a GPU test binary.
struct Options {
  std::string kernelDir;
  std::string specDir = SSMC_GPU_TEST_SPECS_DIR;
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
inline int runGpuTestSuite(int argc, char **argv, const GpuTestSuite &suite) {
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

#endif // SSMC_GPU_TEST_SPECS_DIR

} // namespace ssmc::gpu

#endif // SSMC_TEST_GPU_GPUTESTUTIL_H
